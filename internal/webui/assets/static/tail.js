// tail.html follows the log: a poll of tail.json from the size the page
// was made at, appending what the file gained. Without it the page is
// Supervisor's: the last bytes and a Refresh link.
"use strict";
(function () {
  var body = document.body;
  if (!body.dataset.processname) return;
  var pre = document.getElementById("tailbody");
  var follow = document.getElementById("follow");
  var state = document.getElementById("tailstate");
  document.getElementById("followlabel").hidden = false;
  var offset = parseInt(body.dataset.offset, 10) || 0;
  var poll = parseInt(body.dataset.poll, 10) || 1000;
  var busy = false;
  var max = 1 << 20; // keep the last MiB on screen
  function atBottom() { return pre.scrollHeight - pre.scrollTop - pre.clientHeight < 30; }
  function tick() {
    if (busy || !follow.checked || document.visibilityState !== "visible") return;
    busy = true;
    var u = "tail.json?processname=" + encodeURIComponent(body.dataset.processname) + "&offset=" + offset;
    fetch(u, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        if (!d) return;
        if (d.error) { state.textContent = d.error; return; }
        state.textContent = "";
        var stick = atBottom();
        if (d.reset) pre.textContent = "==> File truncated <==\n";
        if (d.overflow && !d.reset) pre.textContent += "\n[...]\n";
        if (d.data) {
          pre.textContent += d.data;
          if (pre.textContent.length > max) pre.textContent = pre.textContent.slice(-max);
        }
        offset = d.offset;
        if (stick) pre.scrollTop = pre.scrollHeight;
      })
      .catch(function () { state.textContent = "The server does not answer."; })
      .finally(function () { busy = false; });
  }
  pre.scrollTop = pre.scrollHeight;
  setInterval(tick, poll);
})();
