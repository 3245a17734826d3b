// The weighted score as scores are typed: Σ weight·score / Σ weight·max over the rubric (the API's formula, shown
// before saving; the saved figure is the API's). Inputs carry data-weight and data-max. No inline script (CSP).
(function () {
  "use strict";
  function read(text) {
    var raw = (text || "").trim().replace(/\s/g, "");
    if (raw === "") return null;
    raw = raw.replace(",", ".");
    return /^\d+(\.\d*)?$|^\.\d+$/.test(raw) ? parseFloat(raw) : NaN;
  }
  function update(form) {
    var inputs = form.querySelectorAll("input[data-weight]");
    var scored = 0, sum = 0, top = 0, bad = false;
    inputs.forEach(function (input) {
      var weight = parseFloat(input.dataset.weight), max = parseFloat(input.dataset.max);
      var value = read(input.value);
      top += weight * max;
      if (value === null) return;
      if (isNaN(value) || value < 0 || value > max) { bad = true; return; }
      scored += 1; sum += weight * value;
    });
    var out = document.getElementById("weighted-score-value");
    var note = document.getElementById("weighted-score-note");
    if (!out || !note || !top) return;
    var lang = document.documentElement.lang === "en" ? "en-GB" : "vi-VN";
    out.textContent = bad ? "–" : new Intl.NumberFormat(lang, {maximumFractionDigits: 2}).format(100 * sum / top) + "\u00a0%";
    note.textContent = form.dataset[bad ? "noteBad" : (scored === inputs.length ? "noteAll" : "notePartial")]
      .replace("{n}", scored).replace("{total}", inputs.length);
  }
  document.querySelectorAll("form[data-weighted-score]").forEach(function (form) {
    form.addEventListener("input", function () { update(form); });
  });
})();
