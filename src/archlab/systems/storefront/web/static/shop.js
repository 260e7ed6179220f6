// archlab insurance: small enhancements only. Every page works without this script.
"use strict";

// Move focus to an error summary (or the first invalid field), so keyboard and screen reader
// users start where the problem is. Browsers that honour `autofocus` on it already have.
function focusProblem() {
  const target = document.querySelector("[data-autofocus]");
  if (target && document.activeElement !== target) target.focus();
}

// A form marked data-once is sent once: a second click while the first is on its way does
// nothing. (The server is safe either way: a checkout form carries its idempotency key.)
function sendOnce(event) {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-once")) return;
  if (form.dataset.sending === "yes") {
    event.preventDefault();
    return;
  }
  form.dataset.sending = "yes";
  for (const button of form.querySelectorAll("button[type=submit]")) {
    button.setAttribute("aria-disabled", "true");
  }
}

// Coming back to a page from the browser's history restores it as it was: sendable again.
function reset(event) {
  if (!event.persisted) return;
  for (const form of document.querySelectorAll("form[data-once]")) {
    delete form.dataset.sending;
    for (const button of form.querySelectorAll("button[type=submit]")) {
      button.removeAttribute("aria-disabled");
    }
  }
}

document.addEventListener("DOMContentLoaded", focusProblem);
document.addEventListener("submit", sendOnce);
window.addEventListener("pageshow", reset);
