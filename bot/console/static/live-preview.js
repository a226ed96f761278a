// Live preview while typing, as progressive enhancement: a form with
// data-live-preview="/url" and data-live-target="element-id" posts its fields
// (CSRF token included) to that URL after a pause in typing, and the HTML
// fragment answered replaces the target's content. Without JavaScript the
// form's own submit button still shows the preview.
(function () {
  "use strict";
  var PAUSE_MS = 400;

  function enhance(form) {
    var target = document.getElementById(form.dataset.liveTarget);
    if (!target) return;
    var timer = null;
    var asked = 0; // only the latest answer is shown, even if an older one arrives last

    function ask() {
      var mine = ++asked;
      var body = new URLSearchParams(new FormData(form));
      fetch(form.dataset.livePreview, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "Accept": "text/html" }
      }).then(function (answer) {
        if (!answer.ok) return null;
        return answer.text();
      }).then(function (html) {
        if (html !== null && mine === asked) {
          target.innerHTML = html;
          target.setAttribute("data-live", String(mine));
        }
      }).catch(function () { /* offline: the button still works */ });
    }

    function later() {
      clearTimeout(timer);
      timer = setTimeout(ask, PAUSE_MS);
    }

    form.addEventListener("input", later);
    form.addEventListener("change", later);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var forms = document.querySelectorAll("form[data-live-preview]");
    for (var i = 0; i < forms.length; i++) enhance(forms[i]);
  });
})();
