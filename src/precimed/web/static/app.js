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
      l.append(c, zh() ? " 基线" : " at baseline"); return [l, c];
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
    return {add, load, count};
  }

  function adjudication(words) {
    document.querySelectorAll("#queue button.decide").forEach(button => {
      button.addEventListener("click", async () => {
        const tr = button.closest("tr");
        const reason = tr.querySelector("input.reason").value || null;
        try {
          const result = await api("POST", "/api/v1/endpoints/candidates/" + tr.dataset.id + "/decision", {to_status: button.dataset.to, reason});
          tr.querySelector("td.status").textContent = words[result.status] || result.status;
          tr.querySelectorAll("button, input").forEach(x => x.disabled = true);
          tr.classList.add("decided");
        } catch (e) { alert(e.message); }
      });
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

  return {api, retentionChart, wavesChart, incidenceChart, uploader, genotypeUploader, cohortBuilder, adjudication, admin};
})();
