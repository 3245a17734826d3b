/* Upload progress for forms marked data-upload-progress (served from /static: the CSP allows no inline script).
   htmx posts the form (hx-post, multipart) and reports the XHR's upload progress as htmx:xhr:progress events;
   this moves the <progress> bar of the form. Without JavaScript the form posts normally and there is no bar. */
(function () {
  "use strict";

  function parts(form) {
    return {
      box: form.querySelector(".upload-progress"),
      bar: form.querySelector("progress"),
      text: form.querySelector(".upload-progress [aria-live]")
    };
  }

  function show(form, percent) {
    var p = parts(form);
    if (!p.box || !p.bar) { return; }
    p.box.hidden = false;
    p.bar.value = percent;
    p.bar.textContent = percent + " %";
    if (p.text) { p.text.textContent = percent + " %"; }
  }

  function uploadForm(event) {
    var form = event.target && event.target.closest ? event.target.closest("form[data-upload-progress]") : null;
    return form;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = uploadForm(event);
    if (form) {
      show(form, 0);
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; }
    }
  });

  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = uploadForm(event);
    if (form && event.detail && event.detail.lengthComputable && event.detail.total > 0) {
      show(form, Math.round((event.detail.loaded / event.detail.total) * 100));
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = uploadForm(event);
    if (form) {
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = false; }
    }
  });
})();
