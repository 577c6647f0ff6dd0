/*
 * Demo shop script: small progressive enhancements (the site works without it).
 * Served by perfsuite.static_opt like site.css.
 */
(function () {
  "use strict";

  var root = document.documentElement;
  root.classList.add("js");

  // Mark the navigation link of the current section for screen readers and CSS.
  function markCurrentSection() {
    var path = window.location.pathname;
    var links = document.querySelectorAll(".site-header nav a[href]");
    var best = null;
    var bestLength = 0;
    for (var i = 0; i < links.length; i++) {
      var href = links[i].getAttribute("href");
      if (!href || href.charAt(0) !== "/") continue;
      var matches = href === "/" ? path === "/" : path.indexOf(href) === 0;
      if (matches && href.length > bestLength) {
        best = links[i];
        bestLength = href.length;
      }
    }
    if (best && !best.classList.contains("brand")) {
      best.setAttribute("aria-current", "page");
    }
  }

  // "/" focuses the first search box on the page, as on many sites.
  function searchShortcut(event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) {
      return;
    }
    var box = document.querySelector('input[type="search"], input[name="q"]');
    if (box) {
      event.preventDefault();
      box.focus();
    }
  }

  function ready() {
    markCurrentSection();
    document.addEventListener("keydown", searchShortcut);
    root.dataset.enhanced = "true";
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
