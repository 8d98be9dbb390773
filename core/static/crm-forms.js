/* The core's form helpers, for every page (no inline script: the CSP forbids it).
 *
 * 1. Pickers: every <select data-picker="MODEL"> becomes a searchable, keyboard-friendly picker
 *    (Tom Select) that asks GET /api/v1/lookup/MODEL?q=... as the user types. Optional attributes:
 *    data-picker-url (the lookup URL), data-picker-params ("client_id=12&x=y", fixed filters),
 *    data-picker-follow ("client_id": the value of that form field is sent as that filter, and
 *    changing it empties this picker).
 * 2. Rows: in a [data-rows] table, a button [data-row-add] clones the <template data-row-template>
 *    (replacing __index__ by a new index), a button [data-row-remove] removes its row.
 * 3. Switched parts: an element with data-switch="FIELD" data-switch-value="VALUE" is shown, and
 *    its controls enabled, only while the form field FIELD has that value.
 */
(function () {
  "use strict";

  function escapeText(escape, text) {
    return text ? escape(text) : "";
  }

  function lookupUrl(select) {
    return select.dataset.pickerUrl || "/api/v1/lookup/" + encodeURIComponent(select.dataset.picker);
  }

  function queryParams(select, query) {
    var params = new URLSearchParams(select.dataset.pickerParams || "");
    params.set("q", query || "");
    var follow = select.dataset.pickerFollow;
    if (follow && select.form) {
      var other = select.form.elements.namedItem(follow);
      if (other && other.value) {
        params.set(follow, other.value);
      }
    }
    return params.toString();
  }

  function upgradePicker(select) {
    if (select.tomselect || typeof TomSelect === "undefined") {
      return;
    }
    var multiple = select.multiple;
    var plugins = multiple ? ["remove_button"] : [];
    if (!multiple && !select.required) {
      plugins.push("clear_button");
    }
    var picker = new TomSelect(select, {
      valueField: "id",
      labelField: "label",
      searchField: ["label", "detail"],
      plugins: plugins,
      create: false,
      preload: "focus",
      loadThrottle: 250,
      maxOptions: 50,
      closeAfterSelect: !multiple,
      selectOnTab: true,
      placeholder: select.dataset.placeholder || "Type to search…",
      shouldLoad: function () {
        return true;
      },
      // The server decides what matches (it may search columns it does not show, and applies
      // the record rules): every option it answers is shown as it is.
      score: function () {
        return function () {
          return 1;
        };
      },
      load: function (query, callback) {
        var self = this;
        var follow = select.dataset.pickerFollow;
        var other = follow && select.form ? select.form.elements.namedItem(follow) : null;
        if (other && !other.value) {
          callback([]);
          return;
        }
        fetch(lookupUrl(select) + "?" + queryParams(select, query), {
          headers: { Accept: "application/json" },
          credentials: "same-origin"
        })
          .then(function (response) {
            return response.ok ? response.json() : { items: [] };
          })
          .then(function (body) {
            self.clearOptions();
            callback(body.items || []);
          })
          .catch(function () {
            callback();
          });
      },
      render: {
        option: function (data, escape) {
          var detail = data.detail ? ' <small class="text-body-secondary">' + escape(data.detail) + "</small>" : "";
          return "<div>" + escapeText(escape, data.label) + detail + "</div>";
        },
        item: function (data, escape) {
          return "<div>" + escapeText(escape, data.label) + "</div>";
        },
        no_results: function () {
          var follow = select.dataset.pickerFollow;
          var other = follow && select.form ? select.form.elements.namedItem(follow) : null;
          var text = other && !other.value ? "Choose the " + follow.replace(/_id$/, "").replace(/_/g, " ") + " first." : "Nothing found: try other letters.";
          return '<div class="no-results">' + text + "</div>";
        },
        loading: function () {
          return '<div class="no-results">Searching…</div>';
        }
      }
    });
    var follow = select.dataset.pickerFollow;
    if (follow && select.form) {
      var other = select.form.elements.namedItem(follow);
      if (other && other.addEventListener) {
        other.addEventListener("change", function () {
          picker.clear();
          picker.clearOptions();
          picker.wrapper.classList.remove("preloaded");
        });
      }
    }
  }

  function addRow(button) {
    var table = button.closest("[data-rows]");
    var template = table && table.querySelector("template[data-row-template]");
    var body = table && table.querySelector("tbody");
    if (!template || !body) {
      return;
    }
    var next = Number(table.dataset.nextIndex || body.children.length);
    table.dataset.nextIndex = String(next + 1);
    var html = template.innerHTML.replace(/__index__/g, String(next));
    body.insertAdjacentHTML("beforeend", html);
    var row = body.lastElementChild;
    row.querySelectorAll("select[data-picker]").forEach(upgradePicker);
    var first = row.querySelector("input, select, textarea");
    if (first) {
      first.focus();
    }
  }

  function removeRow(button) {
    var row = button.closest("tr");
    var table = button.closest("[data-rows]");
    if (!row) {
      return;
    }
    row.remove();
    var add = table && table.querySelector("[data-row-add]");
    if (add) {
      add.focus();
    }
  }

  function applySwitches(form) {
    form.querySelectorAll("[data-switch]").forEach(function (part) {
      var field = form.elements.namedItem(part.dataset.switch);
      var on = field && field.value === part.dataset.switchValue;
      part.hidden = !on;
      if ("disabled" in part) {
        part.disabled = !on;
      }
    });
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-row-add]");
    if (add) {
      event.preventDefault();
      addRow(add);
      return;
    }
    var remove = event.target.closest("[data-row-remove]");
    if (remove) {
      event.preventDefault();
      removeRow(remove);
    }
  });

  function start() {
    document.querySelectorAll("select[data-picker]").forEach(upgradePicker);
    document.querySelectorAll("form").forEach(function (form) {
      if (!form.querySelector("[data-switch]")) {
        return;
      }
      applySwitches(form);
      form.addEventListener("change", function () {
        applySwitches(form);
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
