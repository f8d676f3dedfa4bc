/* Vitrine: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return copyByHand(text); });
    }
    return copyByHand(text);
  }

  function copyByHand(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } finally { document.body.removeChild(area); }
    return Promise.resolve();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    copyText(source.textContent).then(function () {
      var label = button.textContent;
      button.textContent = "Copied";
      button.classList.add("is-done");
      setTimeout(function () { button.textContent = label; button.classList.remove("is-done"); }, 1500);
    });
  });

  // A slider and the number field beside it move together.
  document.addEventListener("input", function (event) {
    var target = event.target.getAttribute && event.target.getAttribute("data-sync");
    if (!target) return;
    var other = document.getElementById(target);
    if (other && event.target.value !== "") other.value = event.target.value;
  });

  document.addEventListener("reset", function (event) {
    setTimeout(function () {
      event.target.querySelectorAll('input[type="range"][data-sync]').forEach(function (range) {
        var field = document.getElementById(range.getAttribute("data-sync"));
        if (field && field.value !== "") range.value = field.value;
      });
    });
  });

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // The playground's Run button says what is happening, and is not pressed twice.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.classList.contains("schema-form")) return;
    var button = form.querySelector("button[type=submit]");
    if (!button) return;
    setTimeout(function () { button.disabled = true; button.textContent = "Starting…"; });
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll(".schema-form button[type=submit]").forEach(function (button) {
      button.disabled = false;
      button.textContent = "Run";
    });
  });

  // Files larger than the server takes are refused before they are sent.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.type !== "file" || !input.form) return;
    var limit = Number(input.form.getAttribute("data-max-bytes"));
    if (!limit) return;
    var big = Array.prototype.filter.call(input.files, function (f) { return f.size > limit; })[0];
    input.setCustomValidity(big ? big.name + " is too large: files up to " +
      input.form.getAttribute("data-max-text") + " can be sent." : "");
    if (big) input.reportValidity();
  });

  // Growing logs stay scrolled to their end, unless the reader has scrolled up.
  var stickToEnd = true;
  function followLogs(root) {
    if (!stickToEnd || !root.querySelectorAll) return;
    root.querySelectorAll(".logs[data-follow]").forEach(function (logs) {
      logs.scrollTop = logs.scrollHeight;
    });
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    var logs = event.detail.target.querySelector && event.detail.target.querySelector(".logs[data-follow]");
    stickToEnd = !logs || logs.scrollHeight - logs.scrollTop - logs.clientHeight < 24;
  });
  document.addEventListener("htmx:load", function (event) { followLogs(event.target); });
  document.addEventListener("DOMContentLoaded", function () { followLogs(document); });
})();
