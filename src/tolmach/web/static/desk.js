// tolmach desk: behaviours shared by the desk's pages. Loaded from /static (the CSP allows
// no inline script); everything works without it, only less conveniently.
(function () {
  "use strict";

  // A 400 answer marked X-Desk-Fragment (a form sent back with its error) replaces the form
  // that sent it instead of being dropped, as htmx does with error answers by default.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var xhr = evt.detail.xhr;
    if (xhr && xhr.status === 400 && xhr.getResponseHeader("X-Desk-Fragment") === "1") {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    }
  });

  // Any other refused htmx request (a forbidden action, a missing note, an expired form):
  // its message goes into the alert box above the page instead of vanishing. The answer is
  // parsed and only its text is shown.
  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    var box = document.getElementById("flash");
    if (!box || !xhr || xhr.getResponseHeader("X-Desk-Fragment") === "1") {
      return;
    }
    var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
    var found = doc.querySelector("[data-error]");
    box.textContent = found ? found.textContent.trim() : "The desk could not do that (" + xhr.status + ").";
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  });
  document.addEventListener("htmx:afterRequest", function (evt) {
    var box = document.getElementById("flash");
    if (box && evt.detail.successful) {
      box.hidden = true;
    }
  });

  // The transcript beside a player: the line being spoken is highlighted as it plays, a click
  // on a line seeks there, and ?t=SECONDS in the page's address seeks on load.
  function player() {
    return document.querySelector("[data-synced-player]");
  }

  function lines() {
    return Array.prototype.slice.call(document.querySelectorAll(".transcript .seg[data-start]"));
  }

  function seek(seconds) {
    var media = player();
    if (!media || !isFinite(seconds) || seconds < 0) {
      return;
    }
    var go = function () { media.currentTime = seconds; };
    if (media.readyState >= 1) {
      go();
    } else {
      media.addEventListener("loadedmetadata", go, { once: true });
    }
  }

  var currentId = null;

  function follow(line) {
    var box = line.closest(".transcript");
    if (box && box.scrollHeight > box.clientHeight) {
      var top = line.offsetTop - box.offsetTop;
      if (top < box.scrollTop || top > box.scrollTop + box.clientHeight - line.offsetHeight) {
        box.scrollTop = Math.max(0, top - box.clientHeight / 3);
      }
    }
  }

  function highlight() {
    var media = player();
    if (!media) {
      return;
    }
    var t = media.currentTime;
    var found = null;
    lines().forEach(function (line) {
      if (parseFloat(line.dataset.start) <= t + 0.05 && t < parseFloat(line.dataset.end)) {
        found = line;
      }
    });
    var id = found ? found.id : null;
    if (id === currentId) {
      return;
    }
    currentId = id;
    lines().forEach(function (line) {
      var on = line === found;
      line.classList.toggle("current", on);
      if (on) {
        line.setAttribute("aria-current", "true");
      } else {
        line.removeAttribute("aria-current");
      }
    });
    if (found) {
      follow(found);
    }
  }

  document.addEventListener("click", function (evt) {
    var target = evt.target;
    if (!(target instanceof Element) || !player()) {
      return;
    }
    var line = target.closest(".transcript .seg[data-start]");
    if (!line) {
      return;
    }
    var link = target.closest("a, button, form, textarea, input, select");
    if (link && !link.hasAttribute("data-seek")) {
      return; // edit links and forms do their own thing
    }
    if (window.getSelection && String(window.getSelection()).length > 0) {
      return; // selecting text to copy it is not a seek
    }
    evt.preventDefault();
    seek(parseFloat(line.dataset.start));
  });

  document.addEventListener("DOMContentLoaded", function () {
    var media = player();
    if (!media) {
      return;
    }
    media.addEventListener("timeupdate", highlight);
    media.addEventListener("seeked", highlight);
    var t = parseFloat(new URLSearchParams(window.location.search).get("t"));
    if (isFinite(t)) {
      seek(t);
    }
  });
})();
