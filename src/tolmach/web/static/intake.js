// tolmach desk: send an upload with a progress bar, then go to its job's page. Without this
// script the form still works (a plain POST, then a redirect to the job).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const bar = document.getElementById("upload-progress");
  const problem = document.getElementById("upload-error");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRF-Token", String(data.get("csrf") || ""));
    data.delete("csrf");
    problem.hidden = true;
    bar.hidden = false;
    bar.value = 0;
    form.querySelector("button").disabled = true;
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
    });
    const fail = (text) => {
      problem.textContent = text;
      problem.hidden = false;
      bar.hidden = true;
      form.querySelector("button").disabled = false;
    };
    xhr.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
      if (xhr.status === 202 && body.url) {
        window.location.assign(body.url);
      } else {
        fail([body.error || `The upload failed (HTTP ${xhr.status}).`, body.hint || ""].join(" "));
      }
    });
    xhr.addEventListener("error", () => fail("The upload was cut off. Check the connection and try again."));
    xhr.send(data);
  });
});
