// The population reference page: search box → /api/v1/reference/search → a table of
// variants and, for the chosen one, each dataset's published frequencies and a chart.
// Suppressed cells arrive as null with `suppressed` true and are shown as a marker, never
// as a number. Group codes are named from the labels the page was rendered with.
"use strict";
function precimedReference(config) {
  const {labels, strata, words} = config;
  const LIMIT = 200;
  const NESTED_NAMED_BY_CODE = new Set(["population", "super_population"]);
  const $ = (id) => document.getElementById(id);
  const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
  const el = (tag, props, ...children) => {
    const node = Object.assign(document.createElement(tag), props || {});
    node.append(...children.filter(c => c !== null && c !== undefined));
    return node;
  };
  const layouts = config.layouts || {};
  let result = null;
  let request = 0;

  const name = (stratum, group) => ((labels[stratum] || {})[group]) || group;
  const longName = (stratum, group) => {
    const n = name(stratum, group);
    return NESTED_NAMED_BY_CODE.has(stratum) && n !== group ? group + " · " + n : n;
  };
  const shortName = (stratum, group) => NESTED_NAMED_BY_CODE.has(stratum) ? group : name(stratum, group);
  const count = (n) => n.toLocaleString("en-US");
  // four decimals, or two significant digits below 0.001 so a rare allele is not shown as 0
  const frequency = (af) => af === 0 ? "0" : (af < 0.001 ? af.toExponential(1) : af.toFixed(4));
  const variantId = (v) => [v.chrom, v.pos, v.ref, v.alt].join("-");
  const hiddenMarker = () => el("span", {className: "hidden-cell", textContent: words.hidden});

  // -- search -----------------------------------------------------------------------------
  function clear() {
    $("reference-error").hidden = true;
    $("reference-empty").hidden = true;
    $("variants-card").hidden = true;
    $("variant-table").tBodies[0].replaceChildren();
    $("frequencies").replaceChildren();
  }

  async function search(q) {
    const mine = ++request;  // an answer to an older search is dropped
    clear();
    $("reference-status").textContent = words.searching;
    history.replaceState(null, "", "/reference?q=" + encodeURIComponent(q));
    $("lang-switch").search = "?" + new URLSearchParams({q, lang: window.PRECIMED.lang === "zh" ? "en" : "zh"});
    try {
      const found = await precimed.api("GET", "/api/v1/reference/search?" + new URLSearchParams({q, limit: LIMIT}));
      if (mine !== request) return;
      result = found;
      showVariants(found);
    } catch (e) {
      if (mine !== request) return;
      $("reference-status").textContent = "";
      showError(e);
    }
  }

  function showError(e) {
    const detail = e.detail || {what: e.message, where: "", hint: ""};
    let title = words.error;
    if (e.status === 400 || e.status === 422) title = words.badQuery;
    else if (e.status === 404) title = detail.where === "reference" ? words.noDatabase : words.notFound;
    $("reference-error-title").textContent = title;
    $("reference-error-what").textContent = detail.what || "";
    $("reference-error-where").textContent = detail.where ? "(" + detail.where + ")" : "";
    $("reference-error-hint").textContent = detail.hint ? words.what + ": " + detail.hint : "";
    $("reference-error").hidden = false;
  }

  function showVariants(found) {
    const variants = found.variants;
    $("reference-status").textContent = fill(words.found, {n: variants.length})
      + (variants.length >= LIMIT ? " · " + fill(words.first, {n: LIMIT}) : "");
    if (!variants.length) {
      $("reference-empty-what").textContent = fill(words.noMatch, {q: found.query});
      $("reference-empty").hidden = false;
      return;
    }
    $("variant-count").textContent = "(" + variants.length + ")";
    const body = $("variant-table").tBodies[0];
    for (const v of variants) {
      const button = el("button", {type: "button", className: "choose", textContent: words.show});
      const row = el("tr", {}, el("td", {className: "vid"}, el("code", {textContent: variantId(v)})),
        el("td", {className: "rsid", textContent: v.rsid || "–"}), el("td", {className: "build", textContent: v.build}),
        el("td", {}, button));
      row.dataset.variant = v.variant_index;
      row.addEventListener("click", () => choose(v));
      body.append(row);
    }
    $("variants-card").hidden = false;
    choose(variants[0]);
  }

  // -- frequencies of the chosen variant ---------------------------------------------------
  function choose(v) {
    for (const row of $("variant-table").tBodies[0].rows) row.classList.toggle("on", row.dataset.variant === String(v.variant_index));
    const rows = result.frequencies.filter(f => f.variant_index === v.variant_index);
    const datasets = [...new Set(rows.map(f => f.dataset))];
    $("frequencies").replaceChildren(...datasets.map((d, i) => datasetCard(v, d, rows.filter(f => f.dataset === d), i)));
    datasets.forEach((d, i) => chart("af-chart-" + i, rows.filter(f => f.dataset === d), d));
  }

  function tablesOf(dataset, rows) {
    const layout = layouts[dataset];
    if (layout) return {tables: layout.tables, nesting: layout.nesting || {}};
    // a summary built after the page was rendered: one table per stratum, in the API's order
    const seen = [...new Set(rows.map(f => f.stratum).filter(s => s !== "all"))];
    return {tables: seen.map(s => [s]), nesting: {}};
  }

  function ordered(dataset, rows) {
    const {tables, nesting} = tablesOf(dataset, rows);
    const of = (stratum) => rows.filter(f => f.stratum === stratum);
    const out = of("all").map(f => ({f, depth: 0}));
    for (const table of tables) {
      out.push({header: table.map(s => strata[s] || s).join(" → ")});
      if (table.length === 2) {
        const [coarse, fine] = table;
        const placed = new Set();
        for (const c of of(coarse)) {
          out.push({f: c, depth: 1});
          for (const f of of(fine).filter(f => (nesting[fine] || {})[f.group] === c.group)) {
            out.push({f, depth: 2}); placed.add(f.group);
          }
        }
        for (const f of of(fine).filter(f => !placed.has(f.group))) out.push({f, depth: 2});
      } else {
        for (const f of of(table[0])) out.push({f, depth: 1});
      }
    }
    return out;
  }

  function datasetCard(v, dataset, rows, i) {
    const columns = [[words.group, ""], ["AC", words.ac], ["AN", words.an], ["AF", words.af], [words.homShort, words.hom]];
    const head = el("tr", {}, ...columns.map(([w, title], k) => el("th", {className: k ? "num" : "", textContent: w, title})));
    const table = el("table", {className: "freq-table"}, el("thead", {}, head));
    const body = el("tbody");
    for (const item of ordered(dataset, rows)) {
      if (item.header) { body.append(el("tr", {className: "stratum"}, el("th", {colSpan: 5, textContent: item.header}))); continue; }
      body.append(frequencyRow(item.f, item.depth));
    }
    table.append(body);
    const card = el("section", {className: "card dataset"},
      el("h2", {}, words.dataset + " ", el("code", {textContent: dataset}), " · ", el("code", {textContent: variantId(v)}),
         v.rsid ? " " + v.rsid : ""),
      el("div", {className: "grid reference"}, el("div", {className: "table-wrap"}, table),
         el("div", {}, el("h3", {textContent: words.chart}), el("div", {id: "af-chart-" + i, className: "chart af-chart"}),
            el("p", {className: "small chart-note", id: "af-chart-note-" + i}))));
    card.dataset.dataset = dataset;
    return card;
  }

  function frequencyRow(f, depth) {
    const tr = el("tr", {className: "depth-" + depth + (f.suppressed ? " suppressed" : "")});
    Object.assign(tr.dataset, {stratum: f.stratum, group: f.group});
    tr.append(el("td", {className: "group", textContent: longName(f.stratum, f.group)}));
    if (f.suppressed) {
      tr.append(el("td", {className: "hidden-row", colSpan: 4}, hiddenMarker()));
      return tr;
    }
    const cell = (cls, value, format) => el("td", {className: "num " + cls},
      value === null || value === undefined ? hiddenMarker() : format(value));
    tr.append(cell("ac", f.allele_count, count), cell("an", f.allele_number, count),
      f.allele_frequency === null ? el("td", {className: "num af", textContent: "–"}) : cell("af", f.allele_frequency, frequency),
      cell("hom", f.hom_alt, count));
    return tr;
  }

  function chart(id, rows, dataset) {
    const {tables, nesting} = tablesOf(dataset, rows);
    const table = tables.find(t => t.length === 2) || tables[0] || ["all"];
    const fine = table[table.length - 1];
    const coarse = table.length === 2 ? table[0] : null;
    const groups = rows.filter(f => f.stratum === fine);
    const drawn = groups.filter(f => !f.suppressed && f.allele_frequency !== null);
    const overall = rows.find(f => f.stratum === "all");
    const note = $(id.replace("af-chart-", "af-chart-note-"));
    if (!drawn.length) { $(id).remove(); note.textContent = words.allHidden; return; }
    const keys = coarse ? [...new Set(drawn.map(f => (nesting[fine] || {})[f.group] || "unknown"))] : [null];
    const traces = keys.map(k => {
      const own = drawn.filter(f => k === null || ((nesting[fine] || {})[f.group] || "unknown") === k);
      return {type: "bar", name: k === null ? (strata[fine] || fine) : longName(coarse, k),
              x: own.map(f => shortName(fine, f.group)), y: own.map(f => f.allele_frequency),
              customdata: own.map(f => longName(fine, f.group)),
              hovertemplate: "%{customdata}: AF %{y:.4f}<extra></extra>"};
    });
    const layout = {margin: {t: 10, r: 10, b: 70, l: 60}, yaxis: {title: {text: words.af}, rangemode: "tozero"},
                    legend: {orientation: "h", y: -0.25}, barmode: "group"};
    if (overall && !overall.suppressed && overall.allele_frequency !== null) {
      const y = overall.allele_frequency;
      layout.shapes = [{type: "line", xref: "paper", x0: 0, x1: 1, y0: y, y1: y, line: {color: "#ffb000", width: 2, dash: "dash"}}];
      layout.annotations = [{xref: "paper", x: 1, y, text: words.overall + " " + frequency(y), showarrow: false, bgcolor: "#ffffffcc",
                             xanchor: "right", yanchor: "bottom"}];
    }
    const hidden = groups.length - drawn.length;
    note.textContent = hidden ? fill(words.groupsHidden, {k: hidden, n: window.PRECIMED.threshold}) : "";
    Plotly.newPlot(id, traces, layout, {displaylogo: false, responsive: true});
  }

  // -- wiring ------------------------------------------------------------------------------
  $("reference-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const q = $("reference-q").value.trim();
    search(q);
  });
  for (const a of document.querySelectorAll("#reference-examples a.example")) {
    a.addEventListener("click", (event) => {
      event.preventDefault();
      $("reference-q").value = a.dataset.q;
      search(a.dataset.q);
    });
  }
  if (config.query) search(config.query);
  return {search};
}
