(function () {
  'use strict';
  // Renders the embedded leads. Data only ever reaches the page through textContent and
  // setAttribute on elements created here; no HTML string is ever parsed and nothing is evaluated.
  var D = JSON.parse(document.getElementById('fw-data').textContent);
  var LBL = D.labels, LANG = D.lang, RULES = D.rules, VAL = D.values;
  var SVGNS = 'http://www.w3.org/2000/svg';

  function t(key, fmt) {
    var s = LBL[key] || key;
    if (fmt) { Object.keys(fmt).forEach(function (k) { s = s.split('{' + k + '}').join(String(fmt[k])); }); }
    return s;
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) { Object.keys(attrs).forEach(function (a) { e.setAttribute(a, attrs[a]); }); }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function sv(tag, attrs, text) {
    var e = document.createElementNS(SVGNS, tag);
    if (attrs) { Object.keys(attrs).forEach(function (a) { e.setAttribute(a, attrs[a]); }); }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function clear(e) { while (e.firstChild) { e.removeChild(e.firstChild); } }
  function byId(id) { return document.getElementById(id); }
  var nf = new Intl.NumberFormat(LANG === 'zh' ? 'zh-CN' : 'en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  var nf3 = new Intl.NumberFormat(LANG === 'zh' ? 'zh-CN' : 'en-US', { maximumFractionDigits: 2 });
  function money(v) { return (v === null || v === undefined) ? '' : nf.format(v); }
  // the amount as a Chinese reader counts it: 12.35万元 from D.wan_from up, else 1,640.00元
  function amount(v) {
    if (v === null || v === undefined) { return ''; }
    if (LANG !== 'zh') { return nf.format(v); }
    return Math.abs(v) >= D.wan_from ? nf.format(v / 10000) + '万元' : nf.format(v) + '元';
  }
  function place(l) { return l.region_name ? l.region_name : l.region; }
  function period(l) { return (!l.pe || l.ps === l.pe) ? l.ps : l.ps + (LANG === 'zh' ? ' 至 ' : ' – ') + l.pe; }
  function num(v) { return (v === null || v === undefined || typeof v !== 'number') ? String(v === null || v === undefined ? '' : v) : nf3.format(v); }
  function vl(kind, code) { var m = VAL[kind] || {}; return (code in m) ? m[code] : (code === null || code === undefined ? '' : String(code)); }
  function ruleTitle(code) { return RULES[code] ? RULES[code].title : code; }

  // ---------------------------------------------------------------- data
  var C = D.leads, N = C.lead_id.length, SEV = { high: 3, medium: 2, low: 1 };
  var leads = new Array(N);
  for (var i = 0; i < N; i++) {
    var codes = C.rule_codes[i] || [];
    var o = {
      id: C.lead_id[i], rank: C.rank[i], score: C.score[i], severity: C.severity[i], domain: C.domain[i],
      entity_type: C.entity_type[i], entity_id: C.entity_id[i], rules: codes, title: C.title[i] || '',
      amount: C.amount_at_risk[i], ps: C.period_start[i] || '', pe: C.period_end[i] || '',
      region: C.region_code[i] || '', region_name: C.region_name[i] || '', explanation: C.explanation[i] || '',
      status: C.status[i] || 'new', note: C.note[i], is_new: C.is_new[i], n_records: C.n_records[i],
      involved: C.amount_involved ? C.amount_involved[i] : null, related: C.related_lead_ids ? (C.related_lead_ids[i] || []) : []
    };
    o.hay = [o.id, o.title, o.explanation, o.entity_id, o.region, o.region_name, codes.join(' '),
      codes.map(ruleTitle).join(' '), o.note || '', C.record_text[i] || ''].join('\u0001').toLowerCase();
    leads[i] = o;
  }
  var byLead = {};
  leads.forEach(function (l) { byLead[l.id] = l; });
  function indexBy(col) {
    var m = {};
    for (var j = 0; j < col.length; j++) { (m[col[j]] = m[col[j]] || []).push(j); }
    return m;
  }
  var EV = D.evidence, evIdx = indexBy(EV.lead_id || []);
  var evTotal = {};
  (D.evidence_total.lead_id || []).forEach(function (id, j) { evTotal[id] = D.evidence_total.n[j]; });
  var F = D.findings, fIdx = indexBy(F.lead_id || []);

  // ---------------------------------------------------------------- columns
  // What a supervisor scans first: rank, severity, the title (entity and money), money, place,
  // months and what was decided. Ids, scores and rules are in the detail.
  var COLS = [
    { key: 'rank', label: 'col_rank', num: true, get: function (l) { return l.rank; } },
    { key: 'severity', label: 'col_severity', get: function (l) { return SEV[l.severity] || 0; }, fmt: function (l) { return vl('severity', l.severity); }, cls: function (l) { return 'nowrap sev-' + l.severity; } },
    { key: 'title', label: 'col_title', get: function (l) { return l.title; }, cls: function () { return 'title'; } },
    { key: 'amount', label: 'col_amount', num: true, get: function (l) { return l.amount; }, fmt: function (l) { return amount(l.amount); }, cls: function () { return 'nowrap'; } },
    { key: 'region', label: 'col_region', get: function (l) { return place(l); }, cls: function () { return 'region'; } },
    { key: 'period', label: 'col_period', get: function (l) { return l.ps + l.pe; }, fmt: period, cls: function () { return 'nowrap'; } },
    { key: 'status', label: 'col_status', get: function (l) { return vl('status', l.status); }, fmt: function (l) { return vl('status', l.status); }, cls: function () { return 'nowrap'; } }
  ];
  var colByKey = {};
  COLS.forEach(function (c) { colByKey[c.key] = c; });

  var state = { sortKey: 'rank', sortDir: 1, page: 0, pageSize: D.page_size, rows: leads.slice() };
  var collator = new Intl.Collator(LANG === 'zh' ? 'zh-CN' : 'en', { numeric: true });

  // ---------------------------------------------------------------- filters
  var collator0 = new Intl.Collator(LANG === 'zh' ? 'zh-CN' : 'en', { numeric: true });
  var regionNames = {};
  leads.forEach(function (l) { if (l.region_name && l.region) { regionNames[l.region] = l.region_name; } });
  function fillSelect(id, entries) {
    var s = byId(id);
    entries.forEach(function (e) { s.appendChild(el('option', { value: e[0] }, e[1])); });
  }
  function distinct(f) {
    var seen = {}, out = [];
    leads.forEach(function (l) { [].concat(f(l)).forEach(function (v) { if (v !== null && v !== undefined && v !== '' && !seen[v]) { seen[v] = 1; out.push(v); } }); });
    return out;
  }
  fillSelect('f-domain', distinct(function (l) { return l.domain; }).sort().map(function (v) { return [v, vl('domain', v)]; }));
  fillSelect('f-rule', distinct(function (l) { return l.rules; }).map(function (v) { return [v, LANG === 'zh' ? ruleTitle(v) : ruleTitle(v) + ' (' + v + ')']; })
    .sort(function (a, b) { return collator0.compare(a[1], b[1]); }));
  var regions = distinct(function (l) {
    var r = l.region, out = [];
    if (r.length >= 6) { out.push(r.slice(0, 6)); }
    if (r.length >= 9) { out.push(r.slice(0, 9)); }
    return out;
  }).sort();
  fillSelect('f-region', regions.map(function (v) { return [v, (v.length > 6 ? '\u00a0\u00a0' : '') + (regionNames[v] ? regionNames[v] + ' ' : '') + v]; }));
  fillSelect('f-severity', ['high', 'medium', 'low'].filter(function (s) { return distinct(function (l) { return l.severity; }).indexOf(s) >= 0; }).map(function (v) { return [v, vl('severity', v)]; }));
  fillSelect('f-status', Object.keys(VAL.status).map(function (v) { return [v, vl('status', v)]; }));
  var ps = byId('page-size');
  D.page_sizes.concat(D.page_sizes.indexOf(D.page_size) < 0 ? [D.page_size] : []).sort(function (a, b) { return a - b; })
    .forEach(function (n) { var op = el('option', { value: String(n) }, String(n)); if (n === D.page_size) { op.selected = true; } ps.appendChild(op); });

  function currentFilter() {
    return {
      q: byId('f-search').value.trim().toLowerCase(), domain: byId('f-domain').value, rule: byId('f-rule').value,
      region: byId('f-region').value, severity: byId('f-severity').value, status: byId('f-status').value
    };
  }
  function matches(l, f) {
    if (f.domain && l.domain !== f.domain) { return false; }
    if (f.severity && l.severity !== f.severity) { return false; }
    if (f.status && l.status !== f.status) { return false; }
    if (f.region && l.region.indexOf(f.region) !== 0) { return false; }
    if (f.rule && l.rules.indexOf(f.rule) < 0) { return false; }
    if (f.q) {
      var terms = f.q.split(/\s+/);
      for (var k = 0; k < terms.length; k++) { if (l.hay.indexOf(terms[k]) < 0) { return false; } }
    }
    return true;
  }
  function compare(a, b) {
    var c = colByKey[state.sortKey], x = c.get(a), y = c.get(b), r;
    if (x === null || x === undefined) { r = (y === null || y === undefined) ? 0 : 1; return r || (a.rank - b.rank); }
    if (y === null || y === undefined) { return -1; }
    r = (typeof x === 'number' && typeof y === 'number') ? (x - y) : collator.compare(String(x), String(y));
    return (r * state.sortDir) || (a.rank - b.rank);
  }
  function apply(keepPage) {
    var f = currentFilter();
    state.rows = leads.filter(function (l) { return matches(l, f); });
    state.rows.sort(compare);
    if (!keepPage) { state.page = 0; }
    render();
  }

  // ---------------------------------------------------------------- table
  var head = byId('leads-head');
  COLS.forEach(function (c) {
    var th = el('th', { 'data-key': c.key, scope: 'col', tabindex: '0' }, t(c.label));
    if (c.num) { th.className = 'num'; }
    th.addEventListener('click', function () { sortBy(c.key); });
    th.addEventListener('keydown', function (e) { if (e.key === 'Enter') { sortBy(c.key); } });
    head.appendChild(th);
  });
  function sortBy(key) {
    if (state.sortKey === key) { state.sortDir = -state.sortDir; } else {
      state.sortKey = key;
      state.sortDir = (key === 'score' || key === 'amount' || key === 'severity') ? -1 : 1;
    }
    apply(false);
  }
  function pages() { return Math.max(1, Math.ceil(state.rows.length / state.pageSize)); }
  function render() {
    var body = byId('leads-body');
    clear(body);
    var start = state.page * state.pageSize, end = Math.min(state.rows.length, start + state.pageSize);
    var frag = document.createDocumentFragment();
    for (var r = start; r < end; r++) {
      var l = state.rows[r], tr = el('tr', { 'data-lead-id': l.id, tabindex: '0' });
      COLS.forEach(function (c) {
        var td = el('td', null, c.fmt ? c.fmt(l) : c.get(l));
        var cls = (c.num ? 'num ' : '') + (c.cls ? c.cls(l) : '');
        if (cls.trim()) { td.className = cls.trim(); }
        tr.appendChild(td);
      });
      frag.appendChild(tr);
    }
    if (end <= start) {
      var tr0 = el('tr', { 'class': 'empty' }); tr0.appendChild(el('td', { colspan: String(COLS.length) }, t('no_match'))); frag.appendChild(tr0);
    }
    body.appendChild(frag);
    Array.prototype.forEach.call(head.children, function (th) {
      var k = th.getAttribute('data-key');
      if (k === state.sortKey) { th.setAttribute('aria-sort', state.sortDir > 0 ? 'ascending' : 'descending'); } else { th.removeAttribute('aria-sort'); }
    });
    byId('page-info').textContent = t('page_of', { page: state.page + 1, pages: pages(), n: state.rows.length });
    byId('btn-prev').disabled = byId('btn-first').disabled = state.page === 0;
    byId('btn-next').disabled = byId('btn-last').disabled = state.page >= pages() - 1;
  }
  byId('leads-body').addEventListener('click', function (e) {
    var tr = e.target.closest('tr[data-lead-id]');
    if (tr) { showDetail(tr.getAttribute('data-lead-id')); }
  });
  // keyboard: Enter/Space opens a row, arrows move between rows
  byId('leads-body').addEventListener('keydown', function (e) {
    var tr = e.target.closest('tr[data-lead-id]');
    if (!tr) { return; }
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); showDetail(tr.getAttribute('data-lead-id')); }
    else if (e.key === 'ArrowDown' && tr.nextElementSibling) { e.preventDefault(); tr.nextElementSibling.focus(); }
    else if (e.key === 'ArrowUp' && tr.previousElementSibling) { e.preventDefault(); tr.previousElementSibling.focus(); }
  });
  ['f-domain', 'f-rule', 'f-region', 'f-severity', 'f-status'].forEach(function (id) { byId(id).addEventListener('change', function () { apply(false); }); });
  byId('f-search').addEventListener('input', function () { apply(false); });
  byId('f-reset').addEventListener('click', function () {
    ['f-domain', 'f-rule', 'f-region', 'f-severity', 'f-status', 'f-search'].forEach(function (id) { byId(id).value = ''; });
    state.sortKey = 'rank'; state.sortDir = 1; apply(false);
  });
  byId('page-size').addEventListener('change', function () { state.pageSize = parseInt(this.value, 10) || D.page_size; apply(false); });
  byId('btn-first').addEventListener('click', function () { state.page = 0; render(); });
  byId('btn-prev').addEventListener('click', function () { if (state.page > 0) { state.page--; render(); } });
  byId('btn-next').addEventListener('click', function () { if (state.page < pages() - 1) { state.page++; render(); } });
  byId('btn-last').addEventListener('click', function () { state.page = pages() - 1; render(); });

  // ---------------------------------------------------------------- detail
  function peerChart(f) {
    var W = 460, H = 64, L0 = 10, R0 = W - 10, Y = 34;
    var peers = (f.peer_values || []).filter(function (v) { return typeof v === 'number'; });
    var all = peers.concat([f.value, f.peer_median].filter(function (v) { return typeof v === 'number'; }));
    var svg = sv('svg', { width: String(W), height: String(H), viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'class': 'peer-chart' });
    if (!all.length) { return svg; }
    var lo = Math.min.apply(null, all), hi = Math.max.apply(null, all);
    if (hi === lo) { hi = lo + 1; }
    function x(v) { return L0 + (R0 - L0) * (v - lo) / (hi - lo); }
    svg.appendChild(sv('line', { x1: String(L0), x2: String(R0), y1: String(Y), y2: String(Y), stroke: '#bbb' }));
    peers.forEach(function (v, k) {
      var c = sv('circle', { cx: x(v).toFixed(1), cy: String(Y - 8 + (k * 7) % 17), r: '2.5', fill: '#3b6ea8', 'fill-opacity': '0.45' });
      svg.appendChild(c);
    });
    if (typeof f.peer_median === 'number') {
      var m = sv('line', { x1: x(f.peer_median).toFixed(1), x2: x(f.peer_median).toFixed(1), y1: String(Y - 14), y2: String(Y + 14), stroke: '#333', 'stroke-dasharray': '3 2' });
      m.appendChild(sv('title', null, t('peer_median') + ': ' + num(f.peer_median)));
      svg.appendChild(m);
    }
    if (typeof f.value === 'number') {
      var cx = x(f.value), p = sv('path', { d: 'M' + cx.toFixed(1) + ' ' + (Y - 9) + ' l6 9 l-6 9 l-6 -9 z', fill: '#b42318', 'class': 'peer-value' });
      p.appendChild(sv('title', null, t('peer_value') + ': ' + num(f.value)));
      svg.appendChild(p);
    }
    svg.appendChild(sv('text', { x: String(L0), y: String(H - 2), 'font-size': '10', fill: '#666' }, num(lo)));
    svg.appendChild(sv('text', { x: String(R0), y: String(H - 2), 'font-size': '10', fill: '#666', 'text-anchor': 'end' }, num(hi)));
    return svg;
  }
  function showDetail(id) {
    var l = byLead[id];
    if (!l) { return; }
    Array.prototype.forEach.call(document.querySelectorAll('#leads-body tr.sel'), function (tr) { tr.classList.remove('sel'); });
    var row = document.querySelector('#leads-body tr[data-lead-id="' + (window.CSS && CSS.escape ? CSS.escape(id) : id) + '"]');
    if (row) { row.classList.add('sel'); }
    byId('detail-title').textContent = l.title;
    var b = byId('detail-body');
    clear(b);
    var dl = el('dl', { id: 'detail-facts' });
    function fact(k, v) { dl.appendChild(el('dt', null, k)); dl.appendChild(el('dd', null, v)); }
    fact(t('col_lead_id'), l.id);
    fact(t('col_rank'), l.rank);
    // the score is expected money in doubt (probability x money): shown as money
    fact(t('col_score'), l.score === null ? '' : money(l.score));
    fact(t('col_severity'), vl('severity', l.severity));
    fact(t('col_domain'), vl('domain', l.domain));
    fact(t('col_entity'), vl('entity_type', l.entity_type) + (LANG === 'zh' ? '' : ' ') + (l.entity_id || ''));
    fact(t('col_amount'), amount(l.amount) + (LANG === 'zh' && Math.abs(l.amount || 0) >= D.wan_from ? '(' + money(l.amount) + '元)' : ''));
    if (l.involved !== null && l.involved !== undefined) { fact(t('col_involved'), amount(l.involved)); }
    fact(t('col_period'), period(l));
    fact(t('col_region'), l.region_name ? l.region_name + ' ' + l.region : l.region);
    fact(t('col_status'), vl('status', l.status) + (l.is_new ? ' · ' + t('is_new') : ''));
    if (l.note) { fact(t('note'), l.note); }
    if (l.related.length) { fact(t('col_related'), l.related.join(LANG === 'zh' ? '、' : ', ')); }
    b.appendChild(dl);
    b.appendChild(el('h3', null, t('explanation')));
    b.appendChild(el('p', { id: 'detail-explanation' }, l.explanation));
    b.appendChild(el('h3', null, t('rule_meaning')));
    var fl = fIdx[id] || [];
    l.rules.forEach(function (code) {
      var box = el('div', { 'class': 'rule' });
      var head = el('h4', { title: code }, ruleTitle(code));
      if (LANG !== 'zh') { head.appendChild(document.createTextNode(' ')); head.appendChild(el('code', null, code)); }
      box.appendChild(head);
      if (RULES[code]) {
        box.appendChild(el('div', { 'class': 'muted' }, RULES[code].meaning));
        // what the rule rests on (依据) and what to verify (核查要点)
        if (RULES[code].basis) { box.appendChild(el('div', { 'class': 'basis' }, t('basis') + (LANG === 'zh' ? ':' : ': ') + RULES[code].basis)); }
        var checks = RULES[code].checklist || [];
        if (checks.length) {
          box.appendChild(el('h5', null, t('checklist')));
          var ol = el('ol', { 'class': 'checklist' });
          checks.forEach(function (c) { ol.appendChild(el('li', null, c)); });
          box.appendChild(ol);
        }
      }
      fl.filter(function (j) { return F.rule_code[j] === code; }).forEach(function (j) {
        if (F.text[j]) { box.appendChild(el('div', null, F.text[j])); }
        var d = F.details[j];
        if (d && d.features && d.features.length) {
          var peer = el('div', { 'class': 'peer' });
          peer.appendChild(el('h5', null, t('peer') + (d.peer_group ? (LANG === 'zh' ? '(' + t('peer_group') + ':' + (d.peer_group_label || d.peer_group) + ')' : ' — ' + t('peer_group') + ': ' + (d.peer_group_label || d.peer_group)) : '')));
          d.features.forEach(function (f) {
            var lab = (LANG === 'zh' ? f.label_zh : f.label_en) || f.name;
            var sep = LANG === 'zh' ? ',' : ', ', colon = LANG === 'zh' ? ':' : ': ', sp = LANG === 'zh' ? '' : ' ';
            peer.appendChild(el('div', null, lab + colon + t('peer_value') + sp + num(f.value) + sep + t('peer_median') + sp + num(f.peer_median) +
              (f.n_peers ? sep + t('peer_n') + sp + f.n_peers : '') + (typeof f.contribution === 'number' ? sep + t('contribution') + sp + num(f.contribution) : '')));
            peer.appendChild(peerChart(f));
          });
          box.appendChild(peer);
        }
      });
      b.appendChild(box);
    });
    var rows = evIdx[id] || [];
    b.appendChild(el('h3', null, t('evidence')));
    if (rows.length) {
      var wrap = el('div', { 'class': 'evwrap' });
      var tbl = el('table', { 'class': 'grid', id: 'detail-evidence' }), thr = el('tr');
      var ecols = ['record_id', 'record_type', 'date', 'person_id', 'name', 'counterparty', 'amount', 'description'];
      ecols.forEach(function (c) { thr.appendChild(el('th', null, t('ev_' + c))); });
      var th = el('thead'); th.appendChild(thr); tbl.appendChild(th);
      var tb = el('tbody');
      rows.forEach(function (j) {
        var tr = el('tr');
        ecols.forEach(function (c) {
          var v = EV[c][j];
          if (c === 'amount') { tr.appendChild(el('td', { 'class': 'num nowrap' }, money(v))); } else if (c === 'description') { tr.appendChild(el('td', { 'class': 'desc' }, v)); } else if (c === 'date' || c === 'record_id') { tr.appendChild(el('td', { 'class': 'nowrap' }, v)); } else if (c === 'record_type') { tr.appendChild(el('td', null, vl('record_type', v))); } else { tr.appendChild(el('td', null, v)); }
        });
        tb.appendChild(tr);
      });
      tbl.appendChild(tb);
      wrap.appendChild(tbl);
      b.appendChild(wrap);
      var more = (evTotal[id] || rows.length) - rows.length;
      if (more > 0) { b.appendChild(el('p', { 'class': 'muted' }, t('evidence_more', { n: more }))); }
    } else {
      b.appendChild(el('p', { 'class': 'muted' }, t('no_data')));
    }
    var panel = byId('detail');
    panel.hidden = false;
    panel.scrollTop = 0;  // a new lead starts at its top, not where the last one was left
    document.body.classList.add('detail-open');
    byId('detail-link').setAttribute('href', '#lead=' + encodeURIComponent(id));
    if (location.hash !== '#lead=' + encodeURIComponent(id) && window.history && history.replaceState) {
      history.replaceState(null, '', '#lead=' + encodeURIComponent(id));
    }
    state.open = id;
    byId('detail-close').focus();
  }
  function hideDetail() {
    if (byId('detail').hidden) { return; }
    byId('detail').hidden = true;
    document.body.classList.remove('detail-open');
    if (window.history && history.replaceState) { history.replaceState(null, '', location.pathname + location.search); }
    var row = state.open && document.querySelector('#leads-body tr[data-lead-id="' + (window.CSS && CSS.escape ? CSS.escape(state.open) : state.open) + '"]');
    state.open = null;
    if (row) { row.focus(); }
  }
  byId('detail-close').addEventListener('click', hideDetail);
  byId('detail-print').addEventListener('click', function () {
    document.body.classList.add('print-one');
    window.print();
  });
  window.addEventListener('afterprint', function () { document.body.classList.remove('print-one'); });
  document.addEventListener('keydown', function (e) { if (e.key === 'Escape') { hideDetail(); } });
  // a link to one lead: report.html#lead=<id> opens it (also when the fragment changes)
  function openFromHash() {
    var m = /^#lead=(.+)$/.exec(location.hash);
    if (!m) { return; }
    var id = decodeURIComponent(m[1]);
    if (!byLead[id]) { return; }
    var k = state.rows.indexOf(byLead[id]);
    if (k >= 0) { state.page = Math.floor(k / state.pageSize); render(); }
    showDetail(id);
  }
  window.addEventListener('hashchange', openFromHash);

  // ---------------------------------------------------------------- tabs
  var tabs = Array.prototype.slice.call(document.querySelectorAll('nav.tabs button[data-section]'));
  function showTab(sid) {
    tabs.forEach(function (b) {
      var on = b.getAttribute('data-section') === sid;
      b.setAttribute('aria-selected', on ? 'true' : 'false');
      byId(b.getAttribute('data-section')).hidden = !on;
    });
  }
  tabs.forEach(function (b) { b.addEventListener('click', function () { showTab(b.getAttribute('data-section')); }); });
  if (tabs.length) { showTab('leads'); }

  apply(false);
  openFromHash();
  document.body.setAttribute('data-ready', '1');
})();
