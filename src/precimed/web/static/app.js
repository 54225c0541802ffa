// precimed pages: small helpers over the JSON API. No framework, nothing from a CDN.
"use strict";
const precimed = (() => {
  const zh = () => window.PRECIMED.lang === "zh";
  // the charts' words (precimed.web.i18n, set in base.html); an axis title is
  // {text: ...}: the bundled plotly.js draws no title given as a bare string
  const axis = (key) => ({text: window.PRECIMED.chart[key]});
  // a hidden count says why: "<T" when it is small, another text when it is hidden only
  // to protect another cell (it may hold any number)
  const shown = (n, why) => (n === null || n === undefined)
    ? (why === "secondary" ? window.PRECIMED.hiddenSecondary : "<" + window.PRECIMED.threshold)
    : n.toLocaleString();

  async function api(method, url, body, isForm) {
    const options = {method, headers: {}, credentials: "same-origin"};
    // the session's CSRF token (precimed.api.guard): every state change must carry it
    const token = document.querySelector('meta[name="csrf-token"]');
    if (token && method !== "GET" && method !== "HEAD") options.headers["X-CSRF-Token"] = token.content;
    if (body !== undefined) {
      if (isForm) options.body = body;
      else { options.body = JSON.stringify(body); options.headers["Content-Type"] = "application/json"; }
    }
    const response = await fetch(url, options);
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
    if (!response.ok) {
      const e = (data && data.error) || {what: response.statusText, hint: ""};
      const error = new Error(e.what + (e.where ? " (" + e.where + ")" : "") + (e.hint ? ". " + e.hint : ""));
      error.status = response.status; error.detail = e;  // for pages that word errors by kind
      throw error;
    }
    return data;
  }

  // A destructive action asks first, in the page's language, in a page dialog (never
  // window.confirm, whose buttons the browser words); resolves true on "confirm" only.
  function confirmAction(text) {
    const dialog = document.getElementById("confirm-dialog");
    document.getElementById("confirm-dialog-text").textContent = text;
    dialog.returnValue = "";
    return new Promise(resolve => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), {once: true});
      dialog.showModal();
    });
  }

  // An API refusal in the page's language: by its kind, naming the field at fault by its
  // label (fields: the API's field name -> the label) when the API names one.
  function problem(e, fields) {
    const words = window.PRECIMED.errors;
    const where = ((e.detail && e.detail.where) || "").replace(/\[\d+\]/g, "");
    const label = fields ? (fields[where] || fields[where.split(".")[0]] || "") : "";
    if (e.status === 400 || e.status === 422) return label ? words.field.replace("{field}", label) : words["400"];
    return (words[String(e.status)] || words.other) + (label ? " — " + label : "");
  }

  function retentionChart(id, retention) {
    const rows = retention.centres.filter(r => r.loss !== null);
    Plotly.newPlot(id, [{
      type: "bar", x: rows.map(r => r.centre), y: rows.map(r => 100 * r.loss),
      marker: {color: rows.map(r => r.flag ? "#c0392b" : "#0b4f6c")},
      hovertemplate: "%{x}: %{y:.1f}%<extra></extra>",
    }], {
      margin: {t: 10, r: 10, b: 60, l: 50}, yaxis: {title: axis("loss"), rangemode: "tozero"},
      shapes: [{type: "line", xref: "paper", x0: 0, x1: 1, y0: 100 * retention.target, y1: 100 * retention.target,
                line: {color: "#ffb000", width: 2, dash: "dash"}}],
      annotations: [{xref: "paper", x: 1, y: 100 * retention.target, text: window.PRECIMED.chart.target, showarrow: false, yanchor: "bottom", xanchor: "right"}],
    }, {displaylogo: false, responsive: true});
  }

  function wavesChart(id, data) {
    const byCentre = {};
    for (const r of data.waves) {
      if (r.cumulative_loss === null) continue;
      (byCentre[r.centre] = byCentre[r.centre] || []).push(r);
    }
    const traces = Object.entries(byCentre).map(([centre, rows]) => ({
      type: "scatter", mode: "lines+markers", name: centre,
      x: rows.map(r => r.wave), y: rows.map(r => 100 * r.cumulative_loss)}));
    Plotly.newPlot(id, traces, {
      margin: {t: 10, r: 10, b: 40, l: 50}, xaxis: {title: axis("wave"), dtick: 1},
      yaxis: {title: axis("cumulativeLoss"), rangemode: "tozero"},
      shapes: [{type: "line", xref: "paper", x0: 0, x1: 1, y0: 100 * data.target, y1: 100 * data.target,
                line: {color: "#ffb000", width: 2, dash: "dash"}}],
    }, {displaylogo: false, responsive: true});
  }

  function incidenceChart(id, rows, margin) {
    const cells = rows.filter(r => r.region !== margin.code && r.rate !== null);
    const endpoints = [...new Set(cells.map(r => r.endpoint))];
    const traces = endpoints.map(e => {
      const own = cells.filter(r => r.endpoint === e);
      return {type: "bar", name: e, x: own.map(r => r.region), y: own.map(r => r.rate),
              error_y: {type: "data", symmetric: false, array: own.map(r => r.ci_upper - r.rate),
                        arrayminus: own.map(r => r.rate - r.ci_lower)}};
    });
    Plotly.newPlot(id, traces, {barmode: "group", margin: {t: 10, r: 10, b: 40, l: 50},
      yaxis: {title: axis("rate")}}, {displaylogo: false, responsive: true});
  }

  function uploader(words) {
    const form = document.getElementById("upload-form");
    if (!form) return;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const box = document.getElementById("job");
      const status = document.getElementById("job-status");
      const progress = document.getElementById("job-progress");
      const result = document.getElementById("job-result");
      box.hidden = false; progress.textContent = ""; result.textContent = "";
      const body = new FormData(form);
      try {
        const job = await api("POST", "/api/v1/submissions", body, true);
        const word = (w) => words[w] || w;
        status.textContent = word(job.status);
        const now = await followJob(job.job, status, progress, word);
        if (now.status === "done") {
          const sub = await api("GET", "/api/v1/submissions/" + now.submission_id);
          result.innerHTML = "";
          const verdict = document.createElement("b");
          verdict.id = "job-verdict";
          const link = document.createElement("a");
          link.id = "job-report"; link.target = "_blank";
          if (sub.same_as) {
            // the same package again: no QC of its own, the original's report stands for it
            verdict.textContent = word(sub.status);
            const note = document.createElement("span");
            note.id = "job-unchanged"; note.textContent = " · " + words.unchangedSameAs.replace("{id}", sub.same_as) + " ";
            link.href = "/api/v1/submissions/" + sub.same_as + "/report"; link.textContent = words.originalReport;
            result.append(verdict, note, link);
          } else {
            verdict.textContent = word(sub.status) + (sub.verdict ? " · " + word(sub.verdict) : "");
            verdict.className = "verdict-" + sub.verdict;
            link.href = "/api/v1/submissions/" + now.submission_id + "/report"; link.textContent = " " + words.report;
            result.append(verdict, link);
          }
        } else { result.textContent = now.error.what + ". " + now.error.hint; }
      } catch (e) { result.textContent = e.message; result.className = "error"; }
    });
  }

  // Poll a job until it is done or failed, showing its status and progress lines.
  async function followJob(id, status, progress, word) {
    for (;;) {
      await new Promise(r => setTimeout(r, 700));
      const now = await api("GET", "/api/v1/jobs/" + id);
      status.textContent = word(now.status);
      progress.textContent = now.progress.join("\n");
      if (now.status === "done" || now.status === "failed") return now;
    }
  }

  function genotypeUploader(words) {
    const form = document.getElementById("genotype-form");
    if (!form) return;
    const centre = document.getElementById("genotype-centre");
    const dataset = document.getElementById("genotype-dataset");
    const defaultName = () => { dataset.placeholder = words.dataset_default.replace("{name}", centre.value.toLowerCase() + "-genotypes"); };
    centre.addEventListener("change", defaultName);
    defaultName();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const word = (w) => words[w] || w;
      const button = document.getElementById("genotype-button");
      const status = document.getElementById("genotype-job-status");
      const progress = document.getElementById("genotype-job-progress");
      const result = document.getElementById("genotype-job-result");
      document.getElementById("genotype-job").hidden = false;
      progress.textContent = ""; result.textContent = ""; result.className = "";
      const body = new FormData(form);
      if (!body.get("dataset")) body.delete("dataset");  // the server names it for the centre
      button.disabled = true;
      try {
        const job = await api("POST", "/api/v1/genotypes", body, true);
        status.textContent = word(job.status);
        const now = await followJob(job.job, status, progress, word);
        if (now.status === "failed") {
          const e = now.error;
          result.textContent = e.what + (e.where ? " (" + e.where + ")" : "") + ". " + e.hint;
          result.className = "error";
          return;
        }
        const r = now.result;
        const verdict = document.createElement("b");
        verdict.id = "genotype-verdict"; verdict.className = "verdict-" + r.verdict;
        verdict.dataset.verdict = r.verdict; verdict.dataset.published = r.published;
        verdict.textContent = word(r.verdict) + " · " + word(r.published ? "published" : "not_published");
        const counts = document.createElement("span");
        counts.textContent = " · " + r.dataset + ": " + words.counts.replace("{samples}", r.samples.toLocaleString()).replace("{variants}", r.variants.toLocaleString()) + " ";
        const link = document.createElement("a");
        link.id = "genotype-scorecard"; link.target = "_blank"; link.textContent = words.scorecard;
        link.href = "/api/v1/qc/scorecard.html?centre=" + encodeURIComponent(now.centre);
        result.innerHTML = "";
        result.append(verdict, counts, link);
        // which checks did not pass, by name, and the page listing every check
        const names = r.check_names || {};
        const named = (ids) => ids.map(c => (names[c] || [c, c])[zh() ? 0 : 1]).join(zh() ? "、" : ", ");
        for (const [ids, label, id] of [[r.failed_checks || [], words.failedChecks, "genotype-failed-checks"],
                                         [r.warned_checks || [], words.warnedChecks, "genotype-warned-checks"]]) {
          if (!ids.length) continue;
          const line = document.createElement("div");
          line.id = id; line.textContent = label + (zh() ? "：" : ": ") + named(ids);
          result.append(line);
        }
        if (r.scoring_id) {
          const checks = document.createElement("a");
          checks.id = "genotype-checks"; checks.href = "/submissions/qc/" + encodeURIComponent(r.scoring_id);
          checks.textContent = words.showChecks;
          result.append(checks);
        }
      } catch (e) { result.textContent = e.message; result.className = "error"; }
      finally { button.disabled = false; }
    });
  }

  function cohortBuilder(options, words, canSave) {
    const list = document.getElementById("criteria");
    const criteria = [];
    let timer = null;

    const select = (values, current, cls) => {
      const s = document.createElement("select"); if (cls) s.className = cls;
      for (const [code, label] of Object.entries(values)) {
        const o = document.createElement("option"); o.value = code; o.textContent = code + " · " + (typeof label === "string" ? label : label.label);
        if (code === current) o.selected = true; s.append(o);
      }
      return s;
    };
    const number = (value, placeholder) => {
      const i = document.createElement("input"); i.type = "number"; i.step = "any"; i.placeholder = placeholder;
      i.size = 6; if (value !== null && value !== undefined) i.value = value; return i;
    };
    const text = (value, placeholder) => {
      const i = document.createElement("input"); i.placeholder = placeholder; i.value = value || ""; return i;
    };
    const num = (input) => input.value === "" ? null : Number(input.value);
    const baselineBox = (checked) => {
      const l = document.createElement("label"); l.className = "inline-label";
      const c = document.createElement("input"); c.type = "checkbox"; c.checked = checked;
      l.append(c, " " + words.baseline); return [l, c];
    };

    function row(c) {
      const div = document.createElement("div"); div.className = "criterion";
      const kind = document.createElement("span"); kind.className = "kind"; kind.textContent = (words.kinds || {})[c.kind] || c.kind;
      div.append(kind);
      let read;
      if (c.kind === "participant") {
        const field = select(Object.fromEntries(Object.keys(options.participant).map(k => [k, k])), c.field || "sex", "field");
        let value = select(options.participant[field.value], (c.values || [])[0], "value");
        field.addEventListener("change", () => { const v = select(options.participant[field.value], null, "value"); value.replaceWith(v); value = v; changed(); });
        div.append(field, value);
        read = () => ({kind: "participant", field: field.value, values: [value.value]});
      } else if (c.kind === "age") {
        const lo = number(c.min, "min"), hi = number(c.max, "max"); div.append(lo, "–", hi);
        read = () => ({kind: "age", min: num(lo), max: num(hi)});
      } else if (c.kind === "measurement") {
        const code = select(options.measurement, c.code || "SBP", "code"), lo = number(c.min, "min"), hi = number(c.max, "max");
        const [label, base] = baselineBox(!c.window || c.window.baseline);
        div.append(code, lo, "–", hi, label);
        read = () => ({kind: "measurement", code: code.value, min: num(lo), max: num(hi), window: base.checked ? {baseline: true} : {}});
      } else if (c.kind === "exposure") {
        const code = select(options.exposure, c.code || "SMOKING_STATUS", "code");
        let detail = document.createElement("span");
        const draw = () => {
          const item = options.exposure[code.value]; const d = document.createElement("span");
          if (item.kind === "categorical") d.append(select(item.categories, (c.values || [])[0], "value"));
          else d.append(number(c.min, "min"), "–", number(c.max, "max"));
          detail.replaceWith(d); detail = d;
        };
        div.append(code, detail); draw(); code.addEventListener("change", () => { draw(); changed(); });
        read = () => {
          const item = options.exposure[code.value];
          if (item.kind === "categorical") return {kind: "exposure", code: code.value, values: [detail.querySelector("select").value]};
          const [lo, hi] = detail.querySelectorAll("input");
          return {kind: "exposure", code: code.value, min: num(lo), max: num(hi)};
        };
      } else if (c.kind === "diagnosis") {
        const codes = text((c.codes || ["I63"]).join(","), "ICD-10, e.g. I63,I21");
        const source = select({condition: "condition", endpoint: "endpoint"}, c.source || "condition", "source");
        div.append(codes, source);
        read = () => ({kind: "diagnosis", codes: codes.value.split(",").map(s => s.trim()).filter(Boolean), source: source.value});
      } else if (c.kind === "specimen") {
        const type = select(options.specimen, (c.types || [])[0], "value"); div.append(type);
        read = () => ({kind: "specimen", types: [type.value]});
      } else if (c.kind === "assay") {
        const type = select(options.assay, (c.types || [])[0], "value"); div.append(type);
        read = () => ({kind: "assay", types: [type.value]});
      }
      const remove = document.createElement("button"); remove.textContent = words.remove; remove.className = "remove";
      remove.addEventListener("click", () => { const i = criteria.indexOf(entry); criteria.splice(i, 1); div.remove(); changed(); });
      div.append(remove);
      div.addEventListener("change", changed); div.addEventListener("input", changed);
      const entry = {div, read};
      return entry;
    }

    function definition() {
      return {format: "precimed-cohort", version: 1, name: document.getElementById("cohort-name").value || "cohort",
              description: "", criteria: criteria.map(c => c.read())};
    }

    function changed() { clearTimeout(timer); timer = setTimeout(count, 350); }

    async function count() {
      const table = document.getElementById("attrition");
      const error = document.getElementById("cohort-error");
      document.getElementById("final-count").textContent = words.loading;
      try {
        const release = document.getElementById("cohort-release").value || null;
        const result = await api("POST", "/api/v1/cohorts/count", {definition: definition(), release});
        error.hidden = true;
        table.querySelectorAll("tr.step").forEach(r => r.remove());
        result.attrition.forEach((step, i) => {
          const tr = document.createElement("tr"); tr.className = "step";
          const a = document.createElement("td"); a.textContent = i === 0 ? words.all : step.label;
          const b = document.createElement("td"); b.className = "num"; b.textContent = shown(step.count, (step.suppressed || {}).count);
          tr.append(a, b); table.append(tr);
        });
        document.getElementById("final-count").textContent = shown(result.count, (result.suppressed || {}).count);
      } catch (e) { error.hidden = false; error.textContent = e.message; document.getElementById("final-count").textContent = "–"; }
    }

    function add(c) { const entry = row(c); criteria.push(entry); list.append(entry.div); }
    function load(def) {
      criteria.splice(0).forEach(c => c.div.remove());
      document.getElementById("cohort-name").value = def.name || "";
      for (const c of def.criteria) add(c);
      count();
    }

    document.getElementById("add-criterion").addEventListener("click", () => {
      add({kind: document.getElementById("new-kind").value}); changed();
    });
    document.getElementById("cohort-name").addEventListener("input", () => {});
    document.getElementById("cohort-release").addEventListener("change", changed);

    async function refreshSaved() {
      const list = document.getElementById("saved-list");
      const saved = await api("GET", "/api/v1/cohorts/saved");
      list.querySelectorAll("option[data-id]").forEach(o => o.remove());
      for (const s of saved) { const o = document.createElement("option"); o.value = s.id; o.dataset.id = s.id; o.textContent = s.name; list.append(o); }
    }
    if (canSave) {
      refreshSaved();
      document.getElementById("save-cohort").addEventListener("click", async () => {
        try { await api("POST", "/api/v1/cohorts/saved", {name: definition().name, definition: definition()}); await refreshSaved(); }
        catch (e) { const error = document.getElementById("cohort-error"); error.hidden = false; error.textContent = e.message; }
      });
      document.getElementById("load-cohort").addEventListener("click", async () => {
        const id = document.getElementById("saved-list").value; if (!id) return;
        const saved = await api("GET", "/api/v1/cohorts/saved/" + id); load(saved.definition);
      });
    }
    count();
    const release = () => document.getElementById("cohort-release").value || null;
    return {add, load, count, definition, release};
  }

  // The cohort builder's survival tab: POST /api/v1/cohorts/survival on the builder's
  // definition and release; Kaplan–Meier curves with their 95% bands, the number at risk,
  // the log-rank test and the Cox table, each hidden count in words, and exports (the
  // figure through Plotly, the tables as CSV written here from the same response).
  function survivalTab(builder, options) {
    const w = options.words;
    const T = window.PRECIMED.threshold;
    const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
    const $ = (id) => document.getElementById(id);
    const COLOURS = ["#0b4f6c", "#c0392b", "#1b7f3b", "#b7791f", "#6b46c1", "#2b6cb0", "#d53f8c", "#4a5568"];
    let last = null;  // the last response, with the choices that produced it

    // tabs: the panel named by the hash (#survival) or the build panel
    const tabs = document.querySelectorAll("button.tab[data-panel]");
    function show(panel) {
      tabs.forEach(b => {
        const on = b.dataset.panel === panel;
        b.classList.toggle("on", on); b.setAttribute("aria-selected", on);
        $(b.dataset.panel).hidden = !on;
      });
      if (panel === "panel-survival") {
        $("survival-cohort").textContent = fill(w.surv_cohort, {name: builder.definition().name});
        if (last) Plotly.Plots.resize("survival-plot");
      }
    }
    tabs.forEach(b => b.addEventListener("click", () => {
      show(b.dataset.panel);
      history.replaceState(null, "", b.dataset.panel === "panel-survival" ? "#survival" : "#");
    }));
    if (location.hash === "#survival") show("panel-survival");

    const groupLabel = (by, code) => {
      if (!by) return w.surv_all;
      const names = options.groups[by] || {};
      return names[code] ? code + " · " + names[code] : code;
    };
    const covariateLabel = (c) => {
      if (c === "age") return w.surv_cov_age;
      if (c === "male") return w.surv_cov_male;
      const m = options.measurements[c];
      return m ? c + " · " + m.label + fill(w.surv_cov_per, {unit: m.unit}) : c;
    };
    // a count as published: the number, or why it is hidden ("<T" or the secondary words)
    const count = (value, why) => (value === null || value === undefined)
      ? (why === "secondary" ? window.PRECIMED.hiddenSecondary : "<" + T) : value.toLocaleString();
    const fixed = (x, digits) => (x === null || x === undefined || Number.isNaN(x)) ? "–" : Number(x).toFixed(digits);
    const pvalue = (p) => p < 0.001 ? "<0.001" : p.toFixed(3);

    function choices() {
      const covariates = [];
      if ($("survival-cov-age").checked) covariates.push("age");
      if ($("survival-cov-male").checked) covariates.push("male");
      for (const o of $("survival-measurements").selectedOptions) covariates.push(o.value);
      return {definition: builder.definition(), release: builder.release(),
              endpoint: $("survival-endpoint").value, by: $("survival-by").value || null, covariates};
    }

    // the table of the response as rows, for the page and the CSV alike
    function riskRows(result) {
      const years = [];
      for (const g of result.groups) for (const p of g.curve || []) if (!years.includes(p.year)) years.push(p.year);
      const maxYear = Math.max(5, ...years);
      const header = [w.surv_group, w.surv_n, w.surv_events, w.surv_median];
      for (let y = 0; y <= maxYear; y++) header.push(fill(w.surv_year, {y}));
      const reasons = new Set();
      const rows = result.groups.map(g => {
        const sup = g.suppressed || {};
        if (sup.n) reasons.add(sup.n); if (sup.events) reasons.add(sup.events);
        const row = [{text: groupLabel(result.by, g.group)},
                     {text: count(g.n, sup.n), hidden: sup.n, value: g.n},
                     {text: count(g.events, sup.events), hidden: sup.events, value: g.events}];
        if (!g.curve) {
          reasons.add("group");
          row.push({text: "–", hidden: "group"});
          for (let y = 0; y <= maxYear; y++) row.push({text: "–", hidden: "group"});
          return row;
        }
        row.push({text: g.median_years === null ? w.surv_not_reached : fixed(g.median_years, 2),
                  value: g.median_years});
        for (let y = 0; y <= maxYear; y++) {
          const p = g.curve.find(q => q.year === y);
          if (!p) { reasons.add("year"); row.push({text: "–", hidden: "year"}); continue; }
          const why = (p.suppressed || {}).at_risk;
          if (why) reasons.add(why);
          row.push({text: count(p.at_risk, why), hidden: why, value: p.at_risk});
        }
        return row;
      });
      if (result.by) {
        const sup = result.suppressed || {};
        rows.push([{text: w.surv_total}, {text: count(result.n, sup.n), hidden: sup.n, value: result.n},
                   {text: count(result.events, sup.events), hidden: sup.events, value: result.events}]);
      }
      return {header, rows, reasons};
    }

    const reasonText = {
      small: () => fill(w.surv_why_small, {t: T}), secondary: () => w.surv_why_secondary,
      year: () => fill(w.surv_why_year, {t: T}), group: () => w.surv_why_group,
    };

    function table(id, header, rows) {
      const t = $(id); t.innerHTML = "";
      const head = document.createElement("tr");
      header.forEach((h, i) => { const th = document.createElement("th"); th.textContent = h; if (i) th.className = "num"; head.append(th); });
      const thead = document.createElement("thead"); thead.append(head); t.append(thead);
      const body = document.createElement("tbody");
      for (const row of rows) {
        const tr = document.createElement("tr");
        row.forEach((cell, i) => {
          const td = document.createElement("td"); td.textContent = cell.text;
          if (i) td.className = "num";
          if (cell.hidden) { td.classList.add("hidden-cell"); td.dataset.reason = cell.hidden; td.title = reasonText[cell.hidden] ? reasonText[cell.hidden]() : cell.hidden; }
          tr.append(td);
        });
        body.append(tr);
      }
      t.append(body);
    }

    function coxRows(result) {
      if (!result.cox) return [];
      return Object.entries(result.cox.hazard_ratios).map(([c, h]) => [
        {text: covariateLabel(c), code: c}, {text: fixed(h.hr, 3), value: h.hr},
        {text: fixed(h.lower, 3) + " – " + fixed(h.upper, 3), lower: h.lower, upper: h.upper},
        {text: pvalue(h.p), value: h.p}]);
    }

    function logrankText(result) {
      if (!result.by) return w.surv_logrank_none;
      const lr = result.logrank;
      if (!lr) return w.surv_logrank_few;
      return fill(w.surv_logrank_result, {stat: fixed(lr.statistic, 2), df: lr.df, p: pvalue(lr.p_value),
        groups: lr.groups.map(g => groupLabel(result.by, g)).join(zh() ? "、" : ", ")});
    }

    function provenanceText(result, asked) {
      const p = result.provenance;
      return fill(w.surv_provenance, {release: p.release, catalog: p.catalog_version, as_of: p.as_of,
        name: p.cohort.name, criteria: p.cohort.criteria.length, standard: p.standard_version,
        version: p.precimed_version, run_at: p.run_at, tier: w["surv_tier_" + result.tier] || result.tier});
    }

    function plot(result) {
      const traces = [];
      const shownGroups = result.groups.filter(g => g.curve && g.curve.length);
      shownGroups.forEach((g, i) => {
        const colour = COLOURS[i % COLOURS.length];
        const name = groupLabel(result.by, g.group);
        const x = g.curve.map(p => p.year);
        // the band where both limits are published (a limit may be null: not estimable)
        const banded = g.curve.filter(p => p.lower !== null && p.upper !== null);
        traces.push({type: "scatter", mode: "lines", x: [...banded.map(p => p.year), ...banded.map(p => p.year).reverse()],
          y: [...banded.map(p => p.upper), ...banded.map(p => p.lower).reverse()],
          fill: "toself", fillcolor: colour + "33", line: {width: 0}, hoverinfo: "skip",
          showlegend: false, legendgroup: name, name: name + " 95%"});
        traces.push({type: "scatter", mode: "lines+markers", x, y: g.curve.map(p => p.survival),
          name, legendgroup: name, line: {color: colour, width: 2}, marker: {color: colour, size: 7},
          customdata: g.curve.map(p => [p.lower, p.upper, count(p.at_risk, (p.suppressed || {}).at_risk)]),
          hovertemplate: "%{x}: %{y:.3f} (%{customdata[0]:.3f}–%{customdata[1]:.3f}) · " + w.surv_at_risk + " %{customdata[2]}<extra>" + name + "</extra>"});
      });
      const p = result.provenance;
      const lows = shownGroups.flatMap(g => g.curve.map(q => q.lower));
      const bottom = Math.max(0, Math.min(0.8, ...lows) - 0.05);
      Plotly.newPlot("survival-plot", traces, {
        title: {text: (result.curve_estimator === "kaplan_meier" ? w.surv_plot : w.surv_plot_life_table)
                      + " · " + $("survival-endpoint").selectedOptions[0].textContent},
        margin: {t: 50, r: 20, b: 80, l: 60},
        xaxis: {title: {text: w.surv_x}, dtick: 1, range: [-0.1, 5.1], zeroline: false},
        yaxis: {title: {text: w.surv_y}, range: [bottom, 1.01]},
        legend: {orientation: "h", y: -0.25},
        annotations: [{xref: "paper", yref: "paper", x: 1, y: 1.0, xanchor: "right", yanchor: "bottom",
                       showarrow: false, font: {size: 10, color: "#52606d"},
                       text: p.release + " · " + p.as_of + " · " + p.cohort.name}],
      }, {displaylogo: false, responsive: true});
    }

    function render(result, asked) {
      last = {result, asked};
      $("survival-result").hidden = false;
      $("survival-provenance").textContent = provenanceText(result, asked);
      const empty = $("survival-empty");
      empty.hidden = !(result.n === null || result.events === null || result.n === 0 || result.events === 0);
      empty.textContent = fill(w.surv_no_estimates, {t: T});
      plot(result);
      const risk = riskRows(result);
      table("survival-risk", risk.header, risk.rows);
      const list = $("survival-reasons"); list.innerHTML = "";
      for (const r of ["small", "secondary", "year", "group"]) {
        if (!risk.reasons.has(r)) continue;
        const li = document.createElement("li"); li.dataset.reason = r; li.textContent = reasonText[r](); list.append(li);
      }
      $("survival-logrank").textContent = logrankText(result);
      const cox = result.cox;
      $("survival-cox-fit").textContent = cox
        ? fill(w.surv_cox_fit, {n: count(cox.n, (cox.suppressed || {}).n), events: count(cox.events, (cox.suppressed || {}).events)})
        : w.surv_cox_none;
      table("survival-cox", [w.surv_covariate, w.surv_hr, w.surv_ci, w.surv_p], coxRows(result));
      $("survival-cox").hidden = !cox;
    }

    async function run() {
      const asked = choices();
      const error = $("survival-error");
      $("survival-status").textContent = w.surv_running; $("survival-run").disabled = true;
      try {
        const result = await api("POST", "/api/v1/cohorts/survival", asked);
        error.hidden = true;
        render(result, asked);
      } catch (e) { error.hidden = false; error.textContent = e.message; }
      finally { $("survival-status").textContent = ""; $("survival-run").disabled = false; }
    }
    $("survival-run").addEventListener("click", run);

    function filename(ext) {
      const {result} = last;
      return ["survival", result.provenance.release, result.endpoint, result.by || "all"].join("-") + "." + ext;
    }

    // every table of the tab, with its provenance, as rows of text
    function csvRows() {
      const {result, asked} = last;
      const p = result.provenance;
      const rows = [[w.surv_section_provenance]];
      rows.push([w.surv_endpoint, result.endpoint, $("survival-endpoint").selectedOptions[0].textContent]);
      rows.push([w.surv_by, result.by || ""]);
      for (const k of ["release", "catalog_version", "as_of", "standard_version", "precimed_version", "run_at"]) rows.push([k, p[k]]);
      rows.push(["tier", result.tier, w["surv_tier_" + result.tier] || ""]);
      rows.push([w.surv_definition, JSON.stringify(p.cohort)]);
      rows.push([]);
      const risk = riskRows(result);
      rows.push([w.surv_at_risk]); rows.push(risk.header); for (const r of risk.rows) rows.push(r.map(c => c.text));
      for (const r of ["small", "secondary", "year", "group"]) if (risk.reasons.has(r)) rows.push([reasonText[r]()]);
      rows.push([]);
      rows.push([w.surv_section_curve]);
      rows.push([w.surv_group, fill(w.surv_year, {y: ""}).trim(), w.surv_survival, w.surv_lower, w.surv_upper, w.surv_at_risk,
                 w.surv_events_since, w.surv_censored_since]);
      for (const g of result.groups) for (const q of g.curve || []) {
        const why = q.suppressed || {};
        rows.push([groupLabel(result.by, g.group), q.year, q.survival, q.lower, q.upper, count(q.at_risk, why.at_risk),
                   "events" in q ? count(q.events, why.events) : "", "censored" in q ? count(q.censored, why.censored) : ""]);
      }
      rows.push([]);
      rows.push([w.surv_logrank]);
      if (result.logrank) { rows.push([w.surv_statistic, w.surv_df, w.surv_p]); rows.push([result.logrank.statistic, result.logrank.df, result.logrank.p_value]); }
      else rows.push([logrankText(result)]);
      rows.push([]);
      rows.push([w.surv_cox]);
      if (result.cox) {
        rows.push([$("survival-cox-fit").textContent]);
        rows.push([w.surv_covariate, w.surv_hr, w.surv_lower, w.surv_upper, w.surv_p]);
        for (const [c, h] of Object.entries(result.cox.hazard_ratios)) rows.push([covariateLabel(c), h.hr, h.lower, h.upper, h.p]);
      } else rows.push([w.surv_cox_none]);
      return rows;
    }

    function download(blob, name) {
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob); a.download = name; document.body.append(a); a.click();
      setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    }
    const quote = (v) => {
      let s = v === null || v === undefined ? "" : String(v);
      if (typeof v === "string" && /^[=+@\t\r]|^-[^0-9]/.test(s)) s = "'" + s;  // text, not a formula
      return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
    };
    $("survival-csv").addEventListener("click", () => {
      if (!last) return;
      // a byte-order mark so that spreadsheet programs read the Chinese as UTF-8
      const text = "\ufeff" + csvRows().map(r => r.map(quote).join(",")).join("\r\n") + "\r\n";
      download(new Blob([text], {type: "text/csv;charset=utf-8"}), filename("csv"));
    });
    const image = (format) => () => { if (last) Plotly.downloadImage("survival-plot", {format, filename: filename(format).replace(/\.\w+$/, ""), width: 1000, height: 600}); };
    $("survival-png").addEventListener("click", image("png"));
    $("survival-svg").addEventListener("click", image("svg"));
    // the same rows as a workbook: openpyxl writes them on the server, which adds nothing
    $("survival-xlsx").addEventListener("click", async () => {
      if (!last) return;
      const token = document.querySelector('meta[name="csrf-token"]');
      const response = await fetch("/api/v1/cohorts/survival/xlsx", {method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRF-Token": token ? token.content : ""},
        body: JSON.stringify({rows: csvRows()})});
      const error = $("survival-error");
      if (!response.ok) {  // the platform's error, as api() words it
        let e = {what: response.statusText, hint: ""};
        try { e = (await response.json()).error || e; } catch (_) { /* not JSON */ }
        error.hidden = false; error.textContent = e.what + (e.where ? " (" + e.where + ")" : "") + (e.hint ? ". " + e.hint : "");
        return;
      }
      error.hidden = true;
      download(await response.blob(), filename("xlsx"));
    });
    return {run, show, csvRows};
  }

  // Adjudication, on the queue and on a case: each [data-decide] block (a queue row, the
  // case's form) has a reason, decision buttons, a status and an error line. A decision
  // the domain requires a reason for is not sent without one: the error line says so in
  // the page's language (never alert()). Keys, announced on the page: j/k next/previous
  // row, o open its case, a confirm, r reject, n needs information (not while typing).
  function adjudication(words) {
    const blocks = () => Array.from(document.querySelectorAll("[data-decide]:not(.decided)"));
    async function decide(block, to) {
      const input = block.querySelector(".reason");
      const error = block.querySelector(".decide-error");
      const reason = input.value.trim() || null;
      error.hidden = true; error.textContent = "";
      if (!reason && words.reason_required_for.includes(to)) {
        error.textContent = words.reason_required; error.hidden = false;
        input.setAttribute("aria-invalid", "true"); input.focus();
        return;
      }
      input.removeAttribute("aria-invalid");
      try {
        const result = await api("POST", "/api/v1/endpoints/candidates/" + block.dataset.id + "/decision", {to_status: to, reason});
        block.querySelector(".status").textContent = words[result.status] || result.status;
        block.querySelectorAll("button.decide, input.reason, textarea.reason").forEach(x => x.disabled = true);
        block.classList.add("decided");
        const done = block.querySelector(".decided-note");
        if (done) { done.hidden = false; }
      } catch (e) { error.textContent = problem(e, {reason: words.reason}); error.hidden = false; }
    }
    document.querySelectorAll("[data-decide]").forEach(block => {
      block.querySelectorAll("button.decide").forEach(button =>
        button.addEventListener("click", () => decide(block, button.dataset.to)));
    });
    let current = -1;
    function move(step) {
      const all = blocks();
      if (!all.length) return;
      all.forEach(b => b.classList.remove("current"));
      current = Math.max(0, Math.min(all.length - 1, current + step));
      all[current].classList.add("current");
      all[current].scrollIntoView({block: "nearest"});
    }
    document.addEventListener("keydown", event => {
      const tag = (event.target.tagName || "").toLowerCase();
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (["input", "textarea", "select"].includes(tag)) {
        if (event.key === "Escape") event.target.blur();
        return;
      }
      const all = blocks();
      const single = document.querySelector("#case-decision[data-decide]");
      const block = single || all[current];
      const to = {a: "confirmed", r: "rejected", n: "needs_information"}[event.key];
      if (event.key === "j") { move(1); event.preventDefault(); }
      else if (event.key === "k") { move(-1); event.preventDefault(); }
      else if (event.key === "o" && block && block.querySelector("a.open-case")) {
        window.location.href = block.querySelector("a.open-case").href;
      } else if (to && block && !block.classList.contains("decided")) {
        event.preventDefault(); decide(block, to);
      }
    });
  }

  // The admin page: each change of an account is shown before → after in a page dialog
  // and saved only when confirmed; refusals are worded in the page's language.
  function admin(words) {
    words = words || {};
    const w = (key, values) => (words[key] || key).replace(/\{(\w+)\}/g, (m, k) => values && k in values ? values[k] : m);
    const sep = zh() ? "、" : ", ";
    const verify = document.getElementById("verify-chain");
    if (verify) verify.addEventListener("click", async () => {
      const result = await api("GET", "/api/v1/admin/audit/verify");
      document.getElementById("chain-result").textContent = result.ok
        ? "✓ " + result.events + (zh() ? " 条记录完整" : " events intact")
        : "✗ " + (zh() ? "第 " + result.first_broken + " 条起被篡改：" : "broken at " + result.first_broken + ": ") + result.reason;
    });
    const table = document.getElementById("user-table");
    if (!table) return;

    // the API answers in English: known refusals by their kind and field, others generally
    const REFUSALS = {"invalid_input/password": "err_password", "conflict/password": "err_own_password",
      "invalid_input/centres": "err_centres", "invalid_input/username": "err_username",
      "conflict/username": "err_username_taken", "conflict/roles": "err_own_admin",
      "conflict/active": "err_own_disable"};
    const refusal = (e) => {
      const d = e.detail || {};
      const key = REFUSALS[d.kind + "/" + String(d.where || "").replace(/^body\./, "")];
      return key ? words[key] : (zh() ? words.err_failed : e.message);
    };
    const para = (text, id) => { const p = document.createElement("p"); p.textContent = text; if (id) p.id = id; return p; };

    const dialog = document.getElementById("admin-dialog");
    document.getElementById("dialog-cancel").addEventListener("click", () => dialog.close(""));
    function ask(title, body, okText, cancel = true) {
      return new Promise(resolve => {
        document.getElementById("dialog-title").textContent = title;
        document.getElementById("dialog-body").replaceChildren(...body);
        document.getElementById("dialog-ok").textContent = okText || words.apply;
        document.getElementById("dialog-cancel").hidden = !cancel;
        dialog.returnValue = "";
        dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), {once: true});
        dialog.showModal();
      });
    }

    const shown = (key, v) => key === "roles" ? (v.map(r => words.role_names[r] || r).join(sep) || words.no_role)
      : key === "centres" ? (v.join(sep) || words.all_centres) : (v ? words.user_active : words.user_disabled);
    function changeTable(before, after) {
      const t = document.createElement("table"); t.id = "change-table";
      const head = document.createElement("tr");
      for (const text of ["", words.before, words.after]) { const th = document.createElement("th"); th.textContent = text; head.append(th); }
      t.append(head);
      for (const key of ["roles", "centres", "active"]) {
        if (JSON.stringify(before[key]) === JSON.stringify(after[key])) continue;
        const tr = document.createElement("tr"); tr.dataset.field = key;
        for (const text of [key === "active" ? words.status : words[key], shown(key, before[key]), "→ " + shown(key, after[key])]) {
          const td = document.createElement("td"); td.textContent = text; tr.append(td);
        }
        t.append(tr);
      }
      return t;
    }

    const list = (text) => text ? text.split(",") : [];
    const stateOf = tr => ({roles: list(tr.dataset.roles), centres: list(tr.dataset.centres), active: tr.dataset.active === "true"});
    const ticked = (tr, cls) => [...tr.querySelectorAll("input." + cls + ":checked")].map(i => i.value);
    const same = (a, b) => a.length === b.length && a.every(x => b.includes(x));
    function refresh(tr, user) {
      tr.dataset.roles = user.roles.join(","); tr.dataset.centres = user.centres.join(",");
      tr.dataset.active = String(user.active); tr.dataset.locked = String(user.locked);
      tr.querySelectorAll("input.user-role").forEach(i => { i.checked = user.roles.includes(i.value); });
      tr.querySelectorAll("input.user-centre").forEach(i => { i.checked = user.centres.includes(i.value); });
      tr.querySelector(".centre-boxes summary").textContent = user.centres.join(", ") || words.all_centres;
      tr.querySelector(".user-state").textContent = user.active ? words.user_active : words.user_disabled;
      if (!user.locked) tr.querySelectorAll(".user-locked, button.unlock-user").forEach(x => x.remove());
      const toggle = tr.querySelector("button.toggle-active");
      toggle.textContent = user.active ? words.disable : words.enable;
      toggle.setAttribute("aria-label", toggle.textContent + " " + user.username);
    }

    const message = document.getElementById("user-message");
    const say = (text, bad) => { message.textContent = text; message.className = bad ? "error" : ""; };
    table.querySelectorAll("tr[data-id]").forEach(tr => {
      const name = tr.dataset.username, url = "/api/v1/admin/users/" + tr.dataset.id;
      tr.querySelector("button.save-user").addEventListener("click", async () => {
        const before = stateOf(tr), change = {};
        const roles = ticked(tr, "user-role"), centres = ticked(tr, "user-centre");
        if (!same(before.roles, roles)) change.roles = roles;
        if (!same(before.centres, centres)) change.centres = centres;
        if (!Object.keys(change).length) { say(words.no_change); return; }
        if (!await ask(w("edit_user", {name}), [para(words.confirm_change), changeTable(before, {...before, ...change})])) return;
        try { refresh(tr, await api("PATCH", url, change)); say(words.saved); }
        catch (e) { say(refusal(e), true); }
      });
      tr.querySelector("button.toggle-active").addEventListener("click", async () => {
        const before = stateOf(tr), after = {...before, active: !before.active};
        const note = para(w(before.active ? "dialog_disable" : "dialog_enable", {name}));
        if (!await ask(w("edit_user", {name}), [note, changeTable(before, after)])) return;
        try { refresh(tr, await api("PATCH", url, {active: after.active})); say(words.saved + (before.active ? " " + words.sessions_revoked : "")); }
        catch (e) { say(refusal(e), true); }
      });
      const unlock = tr.querySelector("button.unlock-user");
      if (unlock) unlock.addEventListener("click", async () => {
        if (!await ask(words.unlock + " · " + name, [para(w("dialog_unlock", {name}))], words.unlock)) return;
        try { refresh(tr, await api("POST", url + "/unlock")); say(words.unlocked); }
        catch (e) { say(refusal(e), true); }
      });
      tr.querySelector("button.reset-password").addEventListener("click", async () => {
        const label = document.createElement("label"); label.textContent = words.temporary_password + " ";
        const input = document.createElement("input"); input.type = "password"; input.id = "reset-password-input";
        input.autocomplete = "new-password"; label.append(input);
        if (!await ask(words.reset_password + " · " + name, [para(w("dialog_reset", {name})), label, para(words.password_rules)], words.reset_password)) return;
        try {
          const result = await api("POST", url + "/password", input.value ? {password: input.value} : {});
          refresh(tr, result);
          const done = [para(words.password_reset_done + " " + words.sessions_revoked)];
          if (result.password) {
            const code = document.createElement("code"); code.id = "one-time-password"; code.textContent = result.password;
            done.push(para(words.one_time_password), code);
          }
          say(words.password_reset_done + " " + words.sessions_revoked);
          await ask(words.reset_password + " · " + name, done, words.close, false);
        } catch (e) { say(refusal(e), true); }
      });
    });

    const form = document.getElementById("new-user");
    const created = sessionStorage.getItem("precimed.admin.created");
    if (created) { sessionStorage.removeItem("precimed.admin.created"); document.getElementById("new-user-message").textContent = w("created", {name: created}); }
    if (form) form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const f = new FormData(form);
      const result = document.getElementById("new-user-message");
      try {
        const user = await api("POST", "/api/v1/admin/users", {username: f.get("username"), password: f.get("password"),
          display_name: f.get("display_name") || "", roles: f.getAll("roles"), centres: f.getAll("centres")});
        sessionStorage.setItem("precimed.admin.created", user.username);
        location.reload();
      } catch (e) { result.textContent = refusal(e); result.className = "error"; }
    });
  }

  // Erase a participant (PIPL Art. 47) after a confirmation; the identifier leaves the
  // field as soon as it is sent, and the answer is said in words (counts, not the person).
  function erasure(words) {
    const form = document.getElementById("erasure-form");
    const result = document.getElementById("erasure-result");
    const say = (text, bad) => { result.textContent = text; result.className = bad ? "error" : "status-ok"; };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const field = document.getElementById("erasure-identifier");
      const identifier = field.value.trim();
      const centre = document.getElementById("erasure-centre").value;
      if (!identifier) { say(words.needs_identifier, true); field.focus(); return; }
      const where = centre ? words.centres[centre] + " (" + centre + ")" : words.any_centre;
      if (!await confirmAction(words.confirm.replace("{centre}", where))) return;
      say(words.working);
      try {
        const done = await api("POST", "/api/v1/participants/erase", centre ? {identifier, centre} : {identifier});
        field.value = "";
        const rows = Object.values(done.rows_removed || {}).reduce((a, b) => a + b, 0);
        say(words.done.replace("{centre}", (words.centres[done.centre] || done.centre) + " (" + done.centre + ")")
          .replace("{people}", done.people).replace("{rows}", rows.toLocaleString())
          .replace("{samples}", done.genotype_samples).replace("{id}", done.erasure)
          .replace("{days}", done.retention_days));
      } catch (e) {
        say(e.status === 404 ? words.not_found : problem(e, words.fields), true);
      }
    });
  }

  // The follow-up worklist's contact form: a row's "record" button fills in who and the
  // overdue wave; choosing a participant in the form sets their overdue wave
  function contactForm() {
    const form = document.getElementById("record-contact-form");
    if (!form) return;
    const who = form.querySelector("#contact-pseudonym"), wave = form.querySelector("#contact-wave");
    const fill = () => { const o = who.selectedOptions[0]; if (o && o.dataset.wave) wave.value = o.dataset.wave; };
    who.addEventListener("change", fill);
    document.querySelectorAll("#worklist button.record").forEach(b => b.addEventListener("click", () => {
      who.value = b.dataset.pseudonym; fill(); form.querySelector("#contact-date").focus();
    }));
    if (!wave.value) fill();
  }

  return {api, confirmAction, problem, erasure, contactForm, retentionChart, wavesChart, incidenceChart, uploader, genotypeUploader, cohortBuilder, survivalTab, adjudication, admin};
})();
