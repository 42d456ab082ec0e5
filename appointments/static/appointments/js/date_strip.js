// The doctor page's date strip: choosing a day (or "next available") shows that day's periods
// without a reload; without JavaScript the same links load ?day=… . The 20 s poll carries the
// chosen day, and a live change of places re-marks the day's part (open / full) on the strip.
(function () {
  "use strict";

  function section() {
    return document.getElementById("doctor-periods");
  }

  // Bring the chosen day into the strip's view by scrolling the strip alone, never the page.
  function reveal() {
    var root = section();
    var strip = root && root.querySelector(".date-strip");
    var chosen = root && root.querySelector(".strip-day.chosen");
    if (!strip || !chosen) return;
    var item = chosen.parentElement;
    if (item.offsetLeft < strip.scrollLeft || item.offsetLeft + item.offsetWidth > strip.scrollLeft + strip.clientWidth) {
      strip.scrollLeft = item.offsetLeft - 8;
    }
  }

  function choose(day) {
    var root = section();
    if (!root || !root.querySelector('[data-day-panel="' + day + '"]')) return false;
    root.querySelectorAll("[data-day-panel]").forEach(function (panel) {
      panel.hidden = panel.getAttribute("data-day-panel") !== day;
    });
    root.querySelectorAll(".strip-day").forEach(function (link) {
      var chosen = link.getAttribute("data-day") === day;
      link.classList.toggle("chosen", chosen);
      if (chosen) link.setAttribute("aria-current", "date");
      else link.removeAttribute("aria-current");
    });
    root.setAttribute("data-chosen-day", day);
    var url = new URL(window.location.href);
    url.searchParams.set("day", day);
    url.hash = "";
    window.history.replaceState(null, "", url.toString());
    return true;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a.strip-day, a.next-free-jump");
    if (!link || event.metaKey || event.ctrlKey || event.shiftKey) return;
    if (!choose(link.getAttribute("data-day"))) return;
    event.preventDefault();
    if (link.classList.contains("next-free-jump")) {
      reveal();
      document.getElementById("periods-heading").scrollIntoView({ block: "start" });
    }
  });

  // The poll re-renders the section: ask for the day on screen, not the default one.
  document.addEventListener("htmx:configRequest", function (event) {
    var root = section();
    if (!root || event.detail.elt !== root) return;
    var day = root.getAttribute("data-chosen-day");
    if (day) event.detail.parameters.day = day;
  });
  document.addEventListener("htmx:afterSwap", function () {
    var chosen = section() && section().querySelector(".strip-day.chosen");
    if (chosen) section().setAttribute("data-chosen-day", chosen.getAttribute("data-day"));
    reveal();
  });

  // live_places.js tells of each cell it changed.
  document.addEventListener("places-changed", function (event) {
    var root = section();
    var part = event.target.getAttribute("data-part");
    if (!root || !part) return;
    var mark = root.querySelector('[data-part-state="' + part + '"]');
    if (!mark) return;
    var open = root.querySelector('[data-part="' + part + '"].period-open') !== null;
    if (!open && !mark.classList.contains("strip-open")) return;
    mark.classList.toggle("strip-open", open);
    mark.classList.toggle("strip-full", !open);
    var label = mark.querySelector(".strip-part-state");
    if (label) label.textContent = root.getAttribute(open ? "data-label-open" : "data-label-full");
  });

  var start = section() && section().querySelector(".strip-day.chosen");
  if (start) section().setAttribute("data-chosen-day", start.getAttribute("data-day"));
  reveal();
})();
