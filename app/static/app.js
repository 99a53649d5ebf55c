// U4SSC meeting calendar: small enhancements; every page works without this file.
"use strict";

(function () {
  // Python's urllib.parse.quote(safe="") encodes these too; match it so the URLs are identical.
  function quote(value) {
    return encodeURIComponent(value).replace(/[!'()*]/g, function (c) {
      return "%" + c.charCodeAt(0).toString(16).toUpperCase();
    });
  }

  function webcal(url) {
    return "webcal://" + url.split("://").slice(1).join("://");
  }

  function setStatus(box, text) {
    var status = box.querySelector(".copy-status");
    if (status) status.textContent = text;
  }

  function copyFrom(button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    var box = button.closest(".copy-row");
    if (!input) return;
    var done = function () { setStatus(box, "Copied. Paste it into your calendar app."); };
    var fallback = function () {
      input.focus();
      input.select();
      try {
        if (document.execCommand("copy")) { done(); return; }
      } catch (e) { /* no clipboard: leave the URL selected for Ctrl+C */ }
      setStatus(box, "Selected: press Ctrl+C (or Cmd+C) to copy.");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, fallback);
    } else {
      fallback();
    }
  }

  function enableCopy() {
    document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { copyFrom(button); });
    });
  }

  function showLocalTimes() {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "your time zone";
    var day = new Intl.DateTimeFormat(undefined, {
      weekday: "long", day: "numeric", month: "long", year: "numeric"
    });
    var clock = new Intl.DateTimeFormat(undefined, {
      hour: "2-digit", minute: "2-digit", hourCycle: "h23"
    });
    var clockZone = new Intl.DateTimeFormat(undefined, {
      hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short"
    });
    document.querySelectorAll(".meeting time.when[data-end]").forEach(function (el) {
      var start = new Date(el.getAttribute("datetime"));
      var end = new Date(el.getAttribute("data-end"));
      var target = el.closest(".meeting").querySelector(".local");
      if (!target || isNaN(start.getTime()) || isNaN(end.getTime())) return;
      target.textContent = "Your time (" + zone + "): " + day.format(start) + ", " +
        clock.format(start) + "–" + clockZone.format(end);
      target.setAttribute("data-zone", zone);
      target.hidden = false;
    });
  }

  function feedUrl(base, slugs) {
    if (slugs.length === 1) return base + "/groups/" + quote(slugs[0]) + "/calendar.ics";
    var query = slugs.map(function (s) { return "group=" + quote(s); }).join("&");
    return base + "/calendar.ics" + (query ? "?" + query : "");
  }

  function setLinks(box, https, name) {
    var hook = webcal(https);
    var links = {
      webcal: hook,
      google: "https://calendar.google.com/calendar/r?cid=" + quote(hook),
      outlook: "https://outlook.live.com/calendar/0/addfromweb?url=" + quote(https) +
        "&name=" + quote(name),
      https: https
    };
    Object.keys(links).forEach(function (kind) {
      var a = box.querySelector('a[data-kind="' + kind + '"]');
      if (a) a.href = links[kind];
    });
    var input = box.querySelector("input.feed-url");
    if (input) input.value = https;
    setStatus(box, "");
  }

  function enableBuilder() {
    var form = document.querySelector("form.feed-builder");
    var result = document.querySelector(".builder-result");
    if (!form || !result) return;
    var base = form.getAttribute("data-base");
    var everything = form.getAttribute("data-name");
    var summary = result.querySelector(".builder-summary");
    var box = result.querySelector(".subscribe");
    var update = function () {
      var boxes = Array.prototype.slice.call(form.querySelectorAll('input[name="group"]:checked'));
      var slugs = boxes.map(function (b) { return b.value; });
      var labels = boxes.map(function (b) { return b.getAttribute("data-label"); });
      var name = slugs.length ? "U4SSC: " + labels.join(" + ") : everything;
      setLinks(box, feedUrl(base, slugs), name);
      summary.textContent = slugs.length
        ? "Your feed: " + labels.join(", ") + "."
        : "Nothing ticked: the feed below has every meeting.";
    };
    form.addEventListener("change", update);
    result.hidden = false;
    update();
  }

  function start() {
    enableCopy();
    showLocalTimes();
    enableBuilder();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
