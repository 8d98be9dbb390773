// The report builder: choosing a model, a group-by, a measure or a chart runs the report again
// (the form works without this script too: its Run button does the same).
document.querySelectorAll("form[data-report-builder] [data-autosubmit]").forEach((field) => {
  field.addEventListener("change", () => field.form.requestSubmit());
});
