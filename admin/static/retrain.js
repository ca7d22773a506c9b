// "Latih ulang model": while a job runs, show its progress and log; reload the page when it ends.
// A script file, not inline, because the dashboard's Content-Security-Policy allows only 'self'.
(function () {
  "use strict";
  var panel = document.getElementById("retrain-job");
  if (!panel || panel.dataset.running !== "true") {
    return;
  }
  var url = "/retrain/status?job=" + encodeURIComponent(panel.dataset.job);

  function show(id, property, value) {
    var element = document.getElementById(id);
    if (element) {
      element[property] = value;
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (job) {
        if (job === null) {
          window.setTimeout(poll, 2000);
          return;
        }
        if (!job.running) {
          window.location.reload();
          return;
        }
        show("retrain-progress", "value", job.progress);
        show("retrain-percent", "textContent", job.progress + "%");
        show("retrain-state", "textContent", job.state_text);
        show("retrain-log", "textContent", job.log);
        window.setTimeout(poll, 2000);
      })
      .catch(function () {
        window.setTimeout(poll, 5000); // the dashboard restarting, say: keep trying
      });
  }

  window.setTimeout(poll, 1500);
})();
