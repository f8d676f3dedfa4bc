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
})();
