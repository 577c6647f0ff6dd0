/* {% virtual_list %} in the browser (perfsuite.memo_components): vanilla, no framework.
   Keeps the visible rows plus `overscan` in the DOM, fetches missing rows from the app's
   window endpoint by index range (one request at a time, on animation frames, after the
   list moved more than 10 px as in the guide), and maps the scroll range onto the rows
   when count * item_height exceeds data-max-height (the same arithmetic as
   virtual_render.Geometry). Scroll anchoring is off (overflow-anchor: none): the list
   places its rows itself. Without JavaScript the pagination links stay. */
(function () {
  "use strict";
  function init(el) {
    if (el.psVirtual) return;
    el.psVirtual = 1;
    /* No scroll anchoring: the browser would move scrollTop to keep a row in view
       whenever the top spacer grows, which asks for a new window, which grows the
       spacer again (a wheel notch ran away to tens of thousands of pixels). */
    el.style.overflowAnchor = "none";
    var d = el.dataset, h = +d.itemHeight, over = +d.overscan, count = +d.count,
      limit = +d.limit, size = +d.window, sizer = el.firstElementChild,
      top = sizer.children[0], box = sizer.children[1], bottom = sizer.children[2],
      nav = document.getElementById(d.nav), rows = {}, kept = 0, busy = 0, asked = "",
      last = -99, shown = "", tick = 0, max = Math.min(count * h, limit);
    if (nav) nav.hidden = true;
    box.querySelectorAll("[aria-rowindex]").forEach(function (r) {
      rows[r.getAttribute("aria-rowindex") - 1] = r.outerHTML;
      kept++;
    });

    function update(force) {
      var vh = el.clientHeight, room = max - vh, k = room > 0 ? (count * h - vh) / room : 1,
        st = el.scrollTop, p = st * k, s, e, o, i, html = "", lo = -1, hi = -1;
      if (!force && Math.abs(p - last) <= 10) return;
      last = p;
      s = Math.max(0, Math.floor(p / h) - over);
      e = Math.min(count, Math.ceil((p + vh) / h) + over);
      o = st - (p - s * h);
      for (i = s; i < e; i++) {
        if (rows[i] == null) {
          if (lo < 0) lo = i;
          hi = i + 1;
          html += '<div class="ps-vrow" role="row" aria-rowindex="' + (i + 1) +
            '" aria-busy="true" style="height:' + h + 'px"></div>';
        } else html += rows[i];
      }
      top.style.height = Math.max(0, o) + "px";
      box.style.marginTop = Math.min(0, o) + "px";
      bottom.style.height = Math.max(0, max - o - (e - s) * h) + "px";
      if (html !== shown) box.innerHTML = shown = html;
      if (lo >= 0 && !busy && asked !== lo + ":" + hi) load(lo, Math.min(hi, lo + size));
    }

    function load(a, b) {
      busy = 1;
      asked = a + ":" + b;
      fetch(d.url + "?start=" + a + "&end=" + b + "&t=" + encodeURIComponent(d.token), {
        headers: { Accept: "application/json" },
        credentials: "same-origin"
      }).then(function (r) {
        if (!r.ok) throw new Error(r.status);
        return r.json();
      }).then(function (j) {
        if (kept > 2000) {
          rows = {};
          kept = 0;
        }
        j.rows.forEach(function (x, n) {
          rows[j.start + n] = x;
          kept++;
        });
        if (j.count !== count) {
          count = j.count;
          max = Math.min(count * h, limit);
          sizer.style.height = max + "px";
          el.setAttribute("aria-rowcount", count);
        }
        busy = 0;
        update(1);
      }, function () {
        busy = 0;
        if (nav) nav.hidden = false;
      });
    }

    if (+d.scroll) el.scrollTop = +d.scroll;
    el.addEventListener("scroll", function () {
      if (tick) return;
      tick = 1;
      requestAnimationFrame(function () {
        tick = 0;
        update();
      });
    }, { passive: true });
    update(1);
  }

  function all() {
    document.querySelectorAll(".ps-vlist[data-url]").forEach(init);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", all);
  else all();
})();
