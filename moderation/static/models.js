// The models page: follow a retrain job's progress without reloading, then reload to show its result.
// Without JavaScript the page shows the job's state as of its last load (and a Refresh link).
(function () {
  "use strict";
  var POLL_MS = 2000;

  function follow(box) {
    var url = box.getAttribute("data-job-url");
    var bar = box.querySelector("progress");
    function field(name, value) {
      var el = box.querySelector('[data-job-field="' + name + '"]');
      if (el && value !== null && value !== undefined) { el.textContent = String(value); }
    }
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json", "X-Requested-With": "fetch" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (job) {
          if (bar) { bar.value = job.progress; bar.textContent = job.progress + "%"; }
          field("progress", job.progress);
          field("message", job.error || job.message);
          field("status", job.status_label || job.status);
          if (job.finished) {
            window.location.reload();  // the page then shows the new version's figures or the error
          } else {
            window.setTimeout(poll, POLL_MS);
          }
        })
        .catch(function () { window.setTimeout(poll, POLL_MS * 5); });  // signed out or offline: slow down
    }
    window.setTimeout(poll, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var boxes = document.querySelectorAll("[data-job-url]");
    for (var i = 0; i < boxes.length; i++) { follow(boxes[i]); }
  });
})();
