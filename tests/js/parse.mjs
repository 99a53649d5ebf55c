#!/usr/bin/env node
// Test support: parse one iCalendar document with ical.js (the parser used by
// Thunderbird) and print a normalised JSON list of its VEVENTs on stdout.
//
// Usage: node parse.mjs FILE.ics      (or "-" / no argument to read stdin)
//
// Output: [{uid, summary, status, sequence, all_day, start, end, alarms}, ...]
//   start/end: "YYYY-MM-DDTHH:MM:SSZ" (UTC) for timed values, "YYYY-MM-DD" for
//              DATE values; end is null when the event has neither DTEND nor
//              DURATION (end from DURATION is DTSTART + DURATION on the wall clock,
//              as ICAL.Event#endDate does).
//   alarms:    TRIGGER of every VALARM, durations in the canonical form produced
//              by tests/ical_parsers.py (e.g. "-PT15M", "P1DT2H", "PT0S"; weeks
//              become days), absolute triggers as UTC strings.
//
// Exits non-zero (message on stderr) on parse errors, on a TZID that is not
// defined by a VTIMEZONE in the document, and on floating (zone-less) times.
//
// Time zone resolution in ical.js 2.x: a TZID parameter is first looked up in
// the VTIMEZONEs of the same document (Component#getTimeZoneByID); only if that
// fails does it fall back to ICAL.TimezoneService, and if that fails too the
// value silently becomes a floating time. We additionally register every
// VTIMEZONE with ICAL.TimezoneService (as the brief asks) and refuse undefined
// TZIDs ourselves, so the UTC instants below always come from the VTIMEZONE
// definitions in the file, never from a built-in database.

import { readFileSync } from "node:fs";
import ICAL from "ical.js";

function fail(message) {
  process.stderr.write(`parse.mjs: ${message}\n`);
  process.exit(2);
}

function pad(n, width = 2) {
  return String(n).padStart(width, "0");
}

function formatDate(time) {
  return `${pad(time.year, 4)}-${pad(time.month)}-${pad(time.day)}`;
}

function formatUtc(time) {
  const t = time.convertToZone(ICAL.Timezone.utcTimezone);
  return `${formatDate(t)}T${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}Z`;
}

// Must stay in sync with _format_duration() in tests/ical_parsers.py.
function formatDurationSeconds(total) {
  if (total === 0) {
    return "PT0S";
  }
  const sign = total < 0 ? "-" : "";
  let rest = Math.abs(total);
  const days = Math.floor(rest / 86400);
  rest -= days * 86400;
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  const seconds = rest - minutes * 60;
  let out = `${sign}P`;
  if (days) out += `${days}D`;
  if (hours || minutes || seconds) {
    out += "T";
    if (hours) out += `${hours}H`;
    if (minutes) out += `${minutes}M`;
    if (seconds) out += `${seconds}S`;
  }
  return out;
}

function checkedTime(prop, definedTzids, where) {
  const time = prop.getFirstValue();
  if (!(time instanceof ICAL.Time)) {
    fail(`${where}: ${prop.name.toUpperCase()} is not a DATE or DATE-TIME value`);
  }
  const tzid = prop.getParameter("tzid");
  if (tzid !== undefined && tzid !== null) {
    if (!definedTzids.has(tzid)) {
      fail(`${where}: TZID "${tzid}" is not defined by any VTIMEZONE in the document`);
    }
    if (time.isDate) {
      fail(`${where}: TZID "${tzid}" on a DATE value`);
    }
    if (time.zone === ICAL.Timezone.localTimezone || time.zone.tzid !== tzid) {
      fail(`${where}: TZID "${tzid}" did not resolve to the document's VTIMEZONE`);
    }
  } else if (!time.isDate && time.zone !== ICAL.Timezone.utcTimezone) {
    fail(`${where}: floating ${prop.name.toUpperCase()} (no TZID, no Z) is not supported`);
  }
  return time;
}

function formatTime(time) {
  return time.isDate ? formatDate(time) : formatUtc(time);
}

function formatTrigger(prop, definedTzids, where) {
  const value = prop.getFirstValue();
  if (value instanceof ICAL.Duration) {
    return formatDurationSeconds(value.toSeconds());
  }
  return formatUtc(checkedTime(prop, definedTzids, where));
}

function readInput() {
  const arg = process.argv[2];
  try {
    if (arg === undefined || arg === "-") {
      return readFileSync(0, "utf8");
    }
    return readFileSync(arg, "utf8");
  } catch (err) {
    fail(`cannot read ${arg ?? "stdin"}: ${err.message}`);
  }
}

function main() {
  const text = readInput();
  let jcal;
  try {
    jcal = ICAL.parse(text);
  } catch (err) {
    fail(`ICAL.parse failed: ${err.message}`);
  }
  // ICAL.parse returns one jCal component, or a list of them if the input
  // holds several top-level components.
  if (Array.isArray(jcal) && Array.isArray(jcal[0])) {
    if (jcal.length !== 1) {
      fail(`expected exactly one VCALENDAR, found ${jcal.length} components`);
    }
    jcal = jcal[0];
  }
  const root = new ICAL.Component(jcal);
  if (root.name !== "vcalendar") {
    fail(`top-level component is ${root.name.toUpperCase()}, not VCALENDAR`);
  }

  const definedTzids = new Set();
  for (const vtimezone of root.getAllSubcomponents("vtimezone")) {
    const tzid = vtimezone.getFirstPropertyValue("tzid");
    if (!tzid) {
      fail("VTIMEZONE without TZID");
    }
    if (definedTzids.has(tzid)) {
      fail(`VTIMEZONE "${tzid}" is defined more than once`);
    }
    definedTzids.add(tzid);
    ICAL.TimezoneService.register(new ICAL.Timezone({ component: vtimezone, tzid }), tzid);
  }

  const events = [];
  for (const vevent of root.getAllSubcomponents("vevent")) {
    const event = new ICAL.Event(vevent);
    const uid = event.uid;
    if (!uid) {
      fail("VEVENT without UID");
    }
    const where = `VEVENT ${uid}`;
    const dtstart = vevent.getFirstProperty("dtstart");
    if (!dtstart) {
      fail(`${where}: no DTSTART`);
    }
    const start = checkedTime(dtstart, definedTzids, where);

    let end = null;
    const dtend = vevent.getFirstProperty("dtend");
    if (dtend) {
      end = formatTime(checkedTime(dtend, definedTzids, where));
    } else if (vevent.hasProperty("duration")) {
      end = formatTime(event.endDate);
    }

    const alarms = vevent.getAllSubcomponents("valarm").map((valarm) => {
      const trigger = valarm.getFirstProperty("trigger");
      if (!trigger) {
        fail(`${where}: VALARM without TRIGGER`);
      }
      return formatTrigger(trigger, definedTzids, `${where} VALARM`);
    });

    const sequence = event.sequence;
    events.push({
      uid,
      summary: event.summary ?? "",
      status: vevent.getFirstPropertyValue("status") ?? null,
      sequence: sequence === null || sequence === undefined ? 0 : Number(sequence),
      all_day: start.isDate,
      start: formatTime(start),
      end,
      alarms,
    });
  }

  process.stdout.write(`${JSON.stringify(events)}\n`);
}

main();
