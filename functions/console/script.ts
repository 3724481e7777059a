/**
 * The console's one script, served at `/console.js` (the policy allows scripts of the console's origin
 * only, never inline ones). The pages work without it; with it, the verdict form's Minutes shows the
 * time the page has been open, to the tenth of a minute, until the reviewer types a figure of their own.
 */
export const CONSOLE_SCRIPT = `'use strict';
(function () {
  var field = document.querySelector('input[name="minutes"][data-opened-at]');
  if (!field) return;
  var openedAt = Number(field.getAttribute('data-opened-at'));
  var typed = false;
  field.addEventListener('input', function () { typed = true; });
  function update() {
    if (typed) return;
    var minutes = Math.max(0, (Date.now() - openedAt) / 60000);
    field.value = String(Math.round(minutes * 10) / 10);
  }
  update();
  setInterval(update, 6000);
})();
`;
