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
    var done = function () { setStatus(box, button.getAttribute("data-copied")); };
    var fallback = function () {
      input.focus();
      input.select();
      try {
        if (document.execCommand("copy")) { done(); return; }
      } catch (e) { /* no clipboard: leave the URL selected for Ctrl+C */ }
      setStatus(box, button.getAttribute("data-select"));
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

  // The page's language, with Latin digits: times read HH:MM in every language, as the
  // server writes Geneva time and UTC.
  function pageLocale() {
    var lang = document.documentElement.lang || "en";
    return [lang === "en" ? "en-GB" : lang + "-u-nu-latn", "en-GB"];
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : whole;
    });
  }

  function showLocalTimes() {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    var locale = pageLocale();
    var day = new Intl.DateTimeFormat(locale, {
      weekday: "long", day: "numeric", month: "long", year: "numeric"
    });
    var clock = new Intl.DateTimeFormat(locale, {
      hour: "2-digit", minute: "2-digit", hourCycle: "h23"
    });
    var clockZone = new Intl.DateTimeFormat(locale, {
      hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short"
    });
    document.querySelectorAll(".meeting time.when[data-end]").forEach(function (el) {
      var start = new Date(el.getAttribute("datetime"));
      var end = new Date(el.getAttribute("data-end"));
      var target = el.closest(".meeting").querySelector(".local");
      if (!target || isNaN(start.getTime()) || isNaN(end.getTime())) return;
      var words = target.getAttribute("data-your-time") || "{zone}: {day}, {start}–{end}";
      target.textContent = fill(words, {
        zone: zone, day: day.format(start), start: clock.format(start), end: clockZone.format(end)
      });
      target.setAttribute("data-zone", zone);
      target.hidden = false;
    });
  }

  // As app.readmodel.links builds them: one group's own feed, or /calendar.ics?group=...; a
  // page in another language than English asks for the feed in it (lang last).
  function feedUrl(base, slugs, lang) {
    var params = lang ? ["lang=" + quote(lang)] : [];
    if (slugs.length === 1) {
      return base + "/groups/" + quote(slugs[0]) + "/calendar.ics" +
        (params.length ? "?" + params.join("&") : "");
    }
    params = slugs.map(function (s) { return "group=" + quote(s); }).concat(params);
    return base + "/calendar.ics" + (params.length ? "?" + params.join("&") : "");
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
    var lang = form.getAttribute("data-lang") || "";
    var yourFeed = form.getAttribute("data-your-feed") || "{groups}";
    var summary = result.querySelector(".builder-summary");
    var box = result.querySelector(".subscribe");
    var update = function () {
      var boxes = Array.prototype.slice.call(form.querySelectorAll('input[name="group"]:checked'));
      var slugs = boxes.map(function (b) { return b.value; });
      var labels = boxes.map(function (b) { return b.getAttribute("data-label"); });
      var name = slugs.length ? "U4SSC: " + labels.join(" + ") : everything;
      setLinks(box, feedUrl(base, slugs, lang), name);
      summary.textContent = slugs.length
        ? fill(yourFeed, { groups: labels.join(", ") })
        : form.getAttribute("data-nothing");
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
