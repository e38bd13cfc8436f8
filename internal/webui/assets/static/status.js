// The status page without reloading: it follows the processes' states
// (a poll of status.json while the page is visible) and filters the
// table as one types. The page works without it.
"use strict";
(function () {
  var table = document.getElementById("statustable");
  var filter = document.getElementById("filter");
  var counts = document.getElementById("counts");
  var rows = new Map();
  document.querySelectorAll("tr[data-name]").forEach(function (tr) { rows.set(tr.dataset.name, tr); });

  function matches(text, words) {
    for (var i = 0; i < words.length; i++) if (text.indexOf(words[i]) < 0) return false;
    return true;
  }
  function applyFilter() {
    if (!filter || table.tagName !== "TABLE") return;
    var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    table.querySelectorAll("tbody").forEach(function (tb) {
      var any = false;
      tb.querySelectorAll("tr[data-name]").forEach(function (tr) {
        var state = tr.querySelector("td.status span").textContent;
        var ok = matches((tr.dataset.name + " " + state).toLowerCase(), words);
        tr.classList.toggle("filtered", !ok);
        any = any || ok;
      });
      tb.hidden = !any;
    });
  }
  if (filter) {
    filter.addEventListener("input", applyFilter);
    filter.form.addEventListener("submit", function (e) {
      // Filtering happens as one types; keep the query in the address.
      e.preventDefault();
      var u = new URL(location.href);
      u.searchParams.delete("message");
      if (filter.value) u.searchParams.set("filter", filter.value); else u.searchParams.delete("filter");
      history.replaceState(null, "", u);
      applyFilter();
    });
  }

  function countSpans(list) {
    var out = document.createDocumentFragment();
    list.forEach(function (c) {
      var s = document.createElement("span");
      s.className = "count " + c.class;
      s.textContent = c.n + " " + c.state;
      out.appendChild(s);
    });
    return out;
  }
  function stateClass(s) {
    return s === "RUNNING" ? "statusrunning" : (s === "FATAL" || s === "BACKOFF") ? "statuserror" : "statusnominal";
  }
  var notice = null;
  function changed() {
    if (notice) return;
    notice = document.createElement("div");
    notice.className = "status_msg";
    notice.setAttribute("role", "status");
    notice.innerHTML = 'The list of processes changed. <a href="index.html">Reload the page</a> to see it.';
    document.getElementById("content").prepend(notice);
  }
  // The server's filter (?filter=): the rows it left out are not news.
  var serverWords = (document.body.dataset.filter || "").toLowerCase().split(/\s+/).filter(Boolean);
  function update(data) {
    if (!data.processes) return;
    var seen = 0, groups = new Map();
    data.processes.forEach(function (p) {
      var g = groups.get(p.group) || {};
      g[p.state] = (g[p.state] || 0) + 1;
      groups.set(p.group, g);
      var tr = rows.get(p.name);
      if (!tr) {
        if (matches((p.name + " " + p.state).toLowerCase(), serverWords)) changed();
        return;
      }
      seen++;
      var span = tr.querySelector("td.status span");
      var lower = p.state.toLowerCase();
      if (span.textContent !== lower) {
        span.textContent = lower;
        span.className = stateClass(p.state);
        var start = p.state === "STOPPED" || p.state === "EXITED" || p.state === "FATAL";
        var run = p.state === "RUNNING";
        tr.querySelector('button[value="start"]').hidden = !start;
        tr.querySelector('button[value="restart"]').hidden = !run;
        tr.querySelector('button[value="stop"]').hidden = !run;
      }
      var desc = tr.querySelector("td.desc");
      if (desc.textContent !== p.description) desc.textContent = p.description;
    });
    if (seen !== rows.size) changed();
    if (counts) {
      var strong = counts.querySelector("strong");
      strong.textContent = data.processes.length;
      while (strong.nextSibling && strong.nextSibling.nodeType === 3) strong.nextSibling.remove();
      strong.after(data.processes.length === 1 ? " process" : " processes");
      counts.querySelectorAll(".count:not(#shown)").forEach(function (s) { s.remove(); });
      var shown = document.getElementById("shown");
      counts.insertBefore(countSpans(data.counts || []), shown);
    }
    document.querySelectorAll("tr.group").forEach(function (tr) {
      var g = groups.get(tr.dataset.group) || {};
      var list = [];
      ["STOPPED", "STARTING", "RUNNING", "BACKOFF", "STOPPING", "EXITED", "FATAL", "UNKNOWN"].forEach(function (s) {
        if (g[s]) list.push({ state: s.toLowerCase(), class: stateClass(s), n: g[s] });
      });
      var gc = tr.querySelector(".gcounts");
      gc.textContent = "";
      gc.appendChild(countSpans(list));
    });
    if (filter && filter.value) applyFilter();
  }

  var poll = parseInt(document.body.dataset.poll, 10) || 2000;
  var busy = false;
  function tick() {
    if (busy || document.visibilityState !== "visible") return;
    busy = true;
    fetch("status.json", { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) { if (d) update(d); })
      .catch(function () {})
      .finally(function () { busy = false; });
  }
  if (rows.size > 0) {
    setInterval(tick, poll);
    document.addEventListener("visibilitychange", tick);
  }
  if (filter && filter.value) applyFilter();
})();
