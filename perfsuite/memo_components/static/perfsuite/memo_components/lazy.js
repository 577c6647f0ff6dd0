/* Lazy components of django-perfsuite: {% lazy %} placeholders load their component.
 *
 * Each .ps-lazy element names its URL (data-ps-lazy, props signed by the server) and
 * when to load (data-ps-when: "visible" with an IntersectionObserver, or "load").
 * It loads once; the server's HTML (autoescaped there) replaces the fallback. A failed
 * load shows the server's message as text (never as HTML) and a retry button. The
 * placeholder keeps its min-height/min-width, so nothing below it moves.
 * Events on the element: "perfsuite:lazy-loaded", "perfsuite:lazy-error".
 */
(function () {
  "use strict";
  if (window.perfsuiteLazy) { window.perfsuiteLazy.scan(); return; }

  function emit(el, type, detail) {
    el.dispatchEvent(new CustomEvent(type, { bubbles: true, detail: detail }));
  }

  function showError(el, message) {
    var box = document.createElement("div");
    box.className = "ps-lazy-error";
    box.setAttribute("role", "alert");
    var text = document.createElement("span");
    text.className = "ps-lazy-message";
    text.textContent = message || el.getAttribute("data-ps-error") || "Error";
    var retry = document.createElement("button");
    retry.type = "button";
    retry.className = "ps-lazy-retry";
    retry.textContent = el.getAttribute("data-ps-retry") || "Retry";
    retry.addEventListener("click", function () { load(el); });
    box.appendChild(text);
    box.appendChild(document.createTextNode(" "));
    box.appendChild(retry);
    el.replaceChildren(box);
    el.setAttribute("data-ps-state", "error");
    el.removeAttribute("aria-busy");
    emit(el, "perfsuite:lazy-error", { message: text.textContent });
  }

  function load(el) {
    var state = el.getAttribute("data-ps-state");
    if (state === "loading" || state === "loaded") { return; }
    el.setAttribute("data-ps-state", "loading");
    el.setAttribute("aria-busy", "true");
    var retry = el.querySelector(".ps-lazy-retry");
    if (retry) { retry.disabled = true; }
    fetch(el.getAttribute("data-ps-lazy"), {
      credentials: "same-origin",
      headers: { "Accept": "text/html" },
    }).then(function (response) {
      return response.text().then(function (body) {
        if (!response.ok) { throw { fromServer: true, message: body.slice(0, 500) }; }
        el.innerHTML = body;  // the component's own template, escaped by the server
        el.setAttribute("data-ps-state", "loaded");
        el.removeAttribute("aria-busy");
        emit(el, "perfsuite:lazy-loaded", {});
      });
    }).catch(function (error) {
      showError(el, error && error.fromServer ? error.message : null);  // else: offline
    });
  }

  var observer = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (entry.isIntersecting) {
        observer.unobserve(entry.target);
        load(entry.target);
      }
    });
  }, { rootMargin: "200px" }) : null;

  function scan(root) {
    (root || document).querySelectorAll(".ps-lazy:not([data-ps-state])").forEach(function (el) {
      el.setAttribute("data-ps-state", "waiting");
      if (el.getAttribute("data-ps-when") === "load" || !observer) {
        load(el);
      } else {
        observer.observe(el);
      }
    });
  }

  window.perfsuiteLazy = { scan: scan, load: load };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { scan(); });
  } else {
    scan();
  }
})();
