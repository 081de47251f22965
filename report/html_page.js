/* topobench report page: draws the view embedded in #tb-data (built by report/html.c).
 * Every string of the document goes into the page through textContent or an SVG text
 * node, never as markup. No request leaves the page. */
'use strict';
(function () {
  var D = JSON.parse(document.getElementById('tb-data').textContent);
  var app = document.getElementById('app');

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function add(parent, tag, cls, text) { var e = el(tag, cls, text); parent.appendChild(e); return e; }
  function fmt(x) {
    if (x === null || x === undefined || !isFinite(x)) return '-';
    var a = Math.abs(x);
    if (a >= 100) return x.toFixed(0);
    if (a >= 10) return x.toFixed(1);
    if (a >= 1) return x.toFixed(2);
    return x.toPrecision(3);
  }
  function fmtSize(b) {
    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0;
    while (b >= 1024 && i < u.length - 1 && b % 1024 === 0) { b /= 1024; i++; }
    return b + ' ' + u[i];
  }
  function section(id, title) {
    var s = add(app, 'section', 'sec');
    s.id = id;
    add(s, 'h2', null, title);
    return s;
  }
  function copyBlock(parent, title, text) {
    var box = add(parent, 'div', 'copy');
    var head = add(box, 'div', 'copyhead', title);
    var b = add(head, 'button', null, 'copy');
    var pre = add(box, 'pre', null, text);
    b.addEventListener('click', function () {
      var r = document.createRange();
      r.selectNodeContents(pre);
      var s = window.getSelection();
      s.removeAllRanges();
      s.addRange(r);
      try { document.execCommand('copy'); } catch (e) { /* selected for a manual copy */ }
    });
    return box;
  }

  /* ---- verdict banner ---- */
  function banner() {
    var a = D.analysis, s = add(app, 'section', 'banner');
    s.id = 'verdict';
    var state = !a ? 'none' : a.verdict === 'ok' ? 'ok' : 'bad';
    if (D.problems.length || !D.complete) state = state === 'ok' || state === 'none' ? 'warn' : state;
    s.classList.add(state);
    var h = add(s, 'h1');
    if (!a) h.textContent = 'Not analysed';
    else if (a.verdict === 'ok') h.textContent = 'OK: no culprit among ' + (a.cells_judged || 0) + ' measured cells';
    else h.textContent = 'SUSPECT: ' + (a.culprits || []).length + ' culprit' + ((a.culprits || []).length === 1 ? '' : 's');
    if (!a) add(s, 'p', null, 'This document has no analysis. `topobench analyze RESULTS.json` judges every measurement against its path and its peers and names culprits.');
    var ul = add(s, 'ul', 'culprits');
    (a && a.culprits || []).forEach(function (c) {
      var li = add(ul, 'li');
      add(li, 'b', null, c.kind + ': ' + c.subject);
      if (c.suggests) add(li, 'span', null, ' (look at: ' + c.suggests + ')');
      var ev = (c.evidence || [])[0];
      if (ev && ev.message) add(li, 'div', 'ev', ev.message);
    });
    D.problems.forEach(function (p) {
      var li = add(ul, 'li');
      add(li, 'b', null, p.name + (p.label ? ' (' + p.label + ')' : '') + ': ' + p.status);
      if (p.errors) add(li, 'span', null, ', ' + p.errors + ' data error record' + (p.errors === 1 ? '' : 's'));
      if (p.reason) add(li, 'div', 'ev', p.reason);
    });
    if (!D.complete) add(s, 'p', null, 'The run did not finish (status: ' + D.status + '): what follows is what was measured before it ended.');
    if (a && a.confirm && a.confirm.command) {
      copyBlock(s, 'confirm the suspects one pair at a time (isolated mode):', a.confirm.command);
      if (a.confirm.note) add(s, 'p', 'note', a.confirm.note);
    }
  }

  /* ---- the run ---- */
  function runFacts() {
    var s = section('run', 'The run');
    var t = add(s, 'table', 'facts');
    D.facts.forEach(function (f) {
      var tr = add(t, 'tr');
      add(tr, 'th', null, f[0]);
      add(tr, 'td', null, f[1]);
    });
    add(s, 'p', 'note', 'Units: sizes in bytes (KiB/MiB as powers of two), time in microseconds (us), bandwidth in GB/s = 1e9 bytes/s.');
  }

  /* ---- matrices ---- */
  function decode(q) {
    if (!q) return null;
    var bin = atob(q.data), n = bin.length >> 1, out = new Float64Array(n);
    var lo = q.lo, hi = q.hi, lg = q.scale === 'log', span = lg ? Math.log(hi / lo) : hi - lo;
    for (var i = 0; i < n; i++) {
      var c = bin.charCodeAt(2 * i) | bin.charCodeAt(2 * i + 1) << 8;
      if (c === 65535) out[i] = NaN;
      else out[i] = lg ? lo * Math.exp(span * c / 65534) : lo + span * c / 65534;
    }
    return out;
  }
  /* ratio: 1 = as its reference, < 1 worse. */
  function colour(r) {
    if (!isFinite(r)) return [225, 225, 225];
    if (r > 1.15) return [70, 150, 200];
    var t = Math.max(0, Math.min(1, (r - 0.4) / 0.55));
    /* red (0.4 and below) -> amber -> green (0.95 and above) */
    return t < 0.5 ? [200, 40 + 300 * t, 40] : [200 - 320 * (t - 0.5), 190 - 40 * (t - 0.5), 40 + 40 * (t - 0.5)];
  }
  function heatmap(parent, m, idx) {
    var higher = m.unit === 'GB/s', lower = m.unit === 'us';
    var box = add(parent, 'div', 'matrix');
    box.id = 'matrix-' + idx;
    add(box, 'h3', null, m.test + (m.label ? ' (' + m.label + ')' : '') + ': ' + m.key + (m.unit ? ' [' + m.unit + ']' : ''));
    var what = (m.what ? m.what : 'value per cell') + (m.size && m.unit !== 'us' ? ', ' + fmtSize(m.size) + (m.nodes ? ' copies' : ' messages') : '') +
      (m.agg ? '; ' + m.ranks + ' ranks aggregated to ' + m.n + ' nodes: each cell is the median of the node pair\'s rank cells (hover: the worst cell)' : '') + '.';
    add(box, 'p', 'note', what);
    var tools = add(box, 'div', 'tools'), pick = null;
    if (m.nodes) {
      pick = add(tools, 'select');
      m.nodes.forEach(function (d, k) {
        var o = add(pick, 'option', null, d.host + (d.n ? '' : ' (' + (d.status || 'no data') + (d.skip_reason ? ': ' + d.skip_reason : '') + ')'));
        o.value = k;
      });
    }
    var zin = add(tools, 'button', null, 'zoom +'), zout = add(tools, 'button', null, 'zoom -');
    add(tools, 'span', 'note', ' colour: ' + (higher || lower ? 'measured / expected where there is a model figure, else / the median of its peers; green 0.95 and above, red 0.4 and below, blue above 1.15' : 'by value, light low, dark high') + '. Row to column.');
    var scroll = add(box, 'div', 'scroll');
    var cv_ = add(scroll, 'canvas', 'heat');
    var notes = add(box, 'div', 'note');
    var info = add(box, 'div', 'cellinfo', 'hover a cell for its figures; click to keep them here');
    var tip = el('div', 'tip');
    tip.id = 'tip-' + idx;
    box.appendChild(tip);
    var d, n, v, worst, cv, exp, expected, img, cs, vmin, vmax, classMedian;
    function name(i) { return d.labels && d.labels[i] !== undefined ? String(d.labels[i]) : String(i); }
    function ref(i, j) {
      var c = expected[i * n + j];
      if (exp && isFinite(exp[i * n + j]) && higher) return exp[i * n + j];
      if (c && c[3] !== null && higher) return c[3];
      return peerMedian(i, j);
    }
    function peerMedian(i, j) {
      if (d.paths && d.paths[i * n + j]) return classMedian[d.paths[i * n + j]];
      return d.group[i] === d.group[j] ? d.refs.intra : d.refs.net;
    }
    function ratio(i, j) {
      var x = v[i * n + j], r = ref(i, j);
      if (!(r > 0) || !(x > 0)) return NaN;
      return higher ? x / r : lower ? r / x : NaN;
    }
    function cellColour(i, j) {
      if (higher || lower) return colour(ratio(i, j));
      var x = v[i * n + j];
      if (!isFinite(x)) return [225, 225, 225];
      var t = vmax > vmin ? (x - vmin) / (vmax - vmin) : 0.5;
      return [230 - 190 * t, 235 - 150 * t, 250 - 90 * t];
    }
    function load(data) {
      d = data; n = d.n || 0;
      v = decode(d.v); worst = decode(d.worst); cv = decode(d.cv); exp = decode(d.exp);
      expected = {};
      (d.cells || []).forEach(function (c) { expected[c[0] * n + c[1]] = c; });
      /* Peers are the cells of the same path class where the data names classes. */
      var byClass = {};
      classMedian = {};
      for (var q = 0; d.paths && v && q < v.length; q++)
        if (isFinite(v[q]) && d.paths[q]) (byClass[d.paths[q]] = byClass[d.paths[q]] || []).push(v[q]);
      Object.keys(byClass).forEach(function (k) {
        var a = byClass[k].sort(function (x, y) { return x - y; }), h = a.length >> 1;
        classMedian[k] = a.length % 2 ? a[h] : (a[h - 1] + a[h]) / 2;
      });
      vmin = Infinity; vmax = -Infinity;
      for (var k = 0; v && k < v.length; k++) if (isFinite(v[k])) { vmin = Math.min(vmin, v[k]); vmax = Math.max(vmax, v[k]); }
      img = document.createElement('canvas');
      img.width = Math.max(1, n); img.height = Math.max(1, n);
      if (n) {
        var ictx = img.getContext('2d'), id = ictx.createImageData(n, n);
        for (var i = 0; i < n; i++)
          for (var j = 0; j < n; j++) {
            var p = 4 * (i * n + j), c = i === j && !isFinite(v[i * n + j]) ? [255, 255, 255] : cellColour(i, j);
            id.data[p] = c[0]; id.data[p + 1] = c[1]; id.data[p + 2] = c[2]; id.data[p + 3] = 255;
          }
        ictx.putImageData(id, 0, 0);
      }
      notes.textContent = (d.notes || []).join('; ') + (n ? '' : ' no matrix for this node' + (d.skip_reason ? ': ' + d.skip_reason : ''));
      cs = Math.max(1, Math.min(40, Math.floor(720 / Math.max(1, n))));
      draw();
    }
    function draw() {
      var labelled = cs >= 8;
      var L = labelled ? 130 : 0, T = labelled ? 110 : 0;
      cv_.width = L + n * cs; cv_.height = T + n * cs;
      cv_.dataset.cs = cs; cv_.dataset.ox = L; cv_.dataset.oy = T; cv_.dataset.n = n;
      var ctx = cv_.getContext('2d');
      ctx.imageSmoothingEnabled = false;
      if (n) ctx.drawImage(img, L, T, n * cs, n * cs);
      if (labelled) {
        ctx.fillStyle = '#222';
        ctx.font = Math.min(12, cs - 1) + 'px sans-serif';
        ctx.textBaseline = 'middle';
        for (var i = 0; i < n; i++) {
          var t = name(i).slice(0, 20);
          ctx.textAlign = 'right';
          ctx.fillText(t, L - 4, T + (i + 0.5) * cs);
          ctx.save();
          ctx.translate(L + (i + 0.5) * cs, T - 4);
          ctx.rotate(-Math.PI / 2);
          ctx.textAlign = 'left';
          ctx.fillText(t, 0, 0);
          ctx.restore();
        }
      }
    }
    function text(i, j) {
      var who = m.agg ? 'node ' + name(i) + ' -> node ' + name(j) : (m.nodes ? d.host + ': ' : '') + name(i) + ' -> ' + name(j);
      var x = v[i * n + j], u = m.unit ? ' ' + m.unit : '';
      if (i === j && !isFinite(x) && !m.agg) return who + ': diagonal (not measured)';
      var s = who + ': ' + (isFinite(x) ? fmt(x) + u : 'no measurement') + (m.agg ? ' (median of the node pair\'s cells)' : '');
      if (cv && isFinite(cv[i * n + j])) s += ', spread ' + (100 * cv[i * n + j]).toFixed(1) + '% (cv over repetitions' + (m.agg ? ', mean over the cells' : '') + ')';
      if (worst && isFinite(worst[i * n + j])) s += '; worst cell ' + fmt(worst[i * n + j]) + u;
      var c = expected[i * n + j], path = d.paths ? d.paths[i * n + j] : c && c[2];
      s += '; path ' + (path ? path : d.group[i] === d.group[j] ? 'within a node' : 'NET (across nodes)');
      var e = exp && isFinite(exp[i * n + j]) ? exp[i * n + j] : c && c[3] !== null ? c[3] : null;
      if (e !== null && isFinite(x)) s += '; expected ' + fmt(e) + ' GB/s (measured/expected ' + fmt(x / e) + ')';
      else s += '; no model figure';
      var pm = peerMedian(i, j);
      if (pm !== undefined && isFinite(x) && x > 0) s += '; peers\' median ' + fmt(pm) + u + ' (ratio ' + fmt(higher ? x / pm : lower ? pm / x : x / pm) + ')';
      if (c && c[4]) s += '; analysis: ' + c[4];
      return s;
    }
    function cellAt(ev) {
      var r = cv_.getBoundingClientRect();
      var x = (ev.clientX - r.left) * cv_.width / r.width - cv_.dataset.ox;
      var y = (ev.clientY - r.top) * cv_.height / r.height - cv_.dataset.oy;
      var i = Math.floor(y / cs), j = Math.floor(x / cs);
      return i >= 0 && j >= 0 && i < n && j < n ? [i, j] : null;
    }
    cv_.addEventListener('mousemove', function (ev) {
      var c = cellAt(ev);
      if (!c) { tip.style.display = 'none'; return; }
      tip.textContent = text(c[0], c[1]);
      tip.style.display = 'block';
      tip.style.left = (ev.pageX + 14) + 'px';
      tip.style.top = (ev.pageY + 14) + 'px';
    });
    cv_.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
    cv_.addEventListener('click', function (ev) { var c = cellAt(ev); if (c) info.textContent = text(c[0], c[1]); });
    zin.addEventListener('click', function () { cs = Math.min(48, cs < 2 ? cs + 1 : Math.round(cs * 1.5)); draw(); });
    zout.addEventListener('click', function () { cs = Math.max(1, Math.floor(cs / 1.5)); draw(); });
    if (pick) pick.addEventListener('change', function () { load(m.nodes[+pick.value]); });
    load(m.nodes ? m.nodes[0] : m);
  }
  function matrices() {
    var s = section('matrices', 'Matrices');
    if (!D.matrices.length) add(s, 'p', 'note', 'No matrix in this run.');
    D.matrices.forEach(function (m, i) { heatmap(s, m, i); });
  }

  /* ---- sweeps: log-size plots ---- */
  var palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];
  function svg(tag, attrs, parent) {
    var e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function plot(parent, series, ylabel, ylog, id) {
    var W = 760, H = 380, L = 70, R = 20, T = 16, B = 50;
    var xs = [], ys = [];
    series.forEach(function (s) {
      s.points.forEach(function (p) {
        xs.push(p[0]);
        [p[1], p[2], p[3]].forEach(function (y) { if (y !== null && (!ylog || y > 0)) ys.push(y); });
      });
      if (s.expected !== null && s.expected !== undefined) ys.push(s.expected);
      (s.baseline || []).forEach(function (p) { if (p[1] !== null && (!ylog || p[1] > 0)) ys.push(p[1]); });
    });
    if (!xs.length || !ys.length) return;
    var x0 = Math.log2(Math.max(1, Math.min.apply(null, xs))), x1 = Math.log2(Math.max.apply(null, xs));
    if (x1 <= x0) x1 = x0 + 1;
    var y0 = ylog ? Math.log10(Math.min.apply(null, ys)) : 0, y1 = ylog ? Math.log10(Math.max.apply(null, ys)) : Math.max.apply(null, ys) * 1.05;
    if (ylog) { y0 = Math.floor(y0); y1 = Math.ceil(y1); if (y1 <= y0) y1 = y0 + 1; }
    if (y1 <= y0) y1 = y0 + 1;
    var X = function (x) { return L + (Math.log2(Math.max(1, x)) - x0) / (x1 - x0) * (W - L - R); };
    var Y = function (y) { var t = ylog ? Math.log10(y) : y; return H - B - (t - y0) / (y1 - y0) * (H - T - B); };
    var g = svg('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, 'class': 'plot', id: id }, parent);
    svg('rect', { x: L, y: T, width: W - L - R, height: H - T - B, fill: '#fff', stroke: '#999' }, g);
    for (var e = Math.ceil(x0); e <= x1; e += (x1 - x0 > 12 ? 2 : 1)) {
      var px = X(Math.pow(2, e));
      svg('line', { x1: px, x2: px, y1: T, y2: H - B, stroke: '#eee' }, g);
      svg('text', { x: px, y: H - B + 16, 'text-anchor': 'middle', 'class': 'tick' }, g).textContent = fmtSize(Math.pow(2, e)).replace(' ', '');
    }
    for (var k = 0; k <= 5; k++) {
      var yv = ylog ? Math.pow(10, y0 + (y1 - y0) * k / 5) : y0 + (y1 - y0) * k / 5, py = Y(ylog ? yv : yv);
      svg('line', { x1: L, x2: W - R, y1: py, y2: py, stroke: '#eee' }, g);
      svg('text', { x: L - 6, y: py + 4, 'text-anchor': 'end', 'class': 'tick' }, g).textContent = fmt(yv);
    }
    svg('text', { x: (L + W - R) / 2, y: H - 10, 'text-anchor': 'middle' }, g).textContent = 'message size (bytes, log scale)';
    svg('text', { x: 16, y: (T + H - B) / 2, 'text-anchor': 'middle', transform: 'rotate(-90 16 ' + (T + H - B) / 2 + ')' }, g).textContent = ylabel;
    var legend = add(parent, 'div', 'legend'), unit = ylabel.replace(/^.*\((.*)\)$/, '$1');
    series.forEach(function (s, i) {
      var col = palette[i % palette.length], pts = s.points.filter(function (p) { return p[1] !== null && (!ylog || p[1] > 0); });
      var band = pts.filter(function (p) { return p[2] !== null && p[3] !== null && (!ylog || (p[2] > 0 && p[3] > 0)); });
      if (band.length > 1) {
        var d = band.map(function (p) { return X(p[0]) + ',' + Y(p[3]); }).concat(band.slice().reverse().map(function (p) { return X(p[0]) + ',' + Y(p[2]); }));
        svg('polygon', { points: d.join(' '), fill: col, 'fill-opacity': 0.15, stroke: 'none' }, g);
      }
      svg('polyline', { points: pts.map(function (p) { return X(p[0]) + ',' + Y(p[1]); }).join(' '), fill: 'none', stroke: col, 'stroke-width': 1.6 }, g);
      pts.forEach(function (p) {
        var c = svg('circle', { cx: X(p[0]), cy: Y(p[1]), r: 2.6, fill: col }, g);
        svg('title', {}, c).textContent = s.name + ' at ' + fmtSize(p[0]) + ': ' + fmt(p[1]) + ' ' + unit +
          (p[2] !== null && p[3] !== null ? ' (spread ' + fmt(p[2]) + ' .. ' + fmt(p[3]) + ')' : '');
      });
      var hasExp = s.expected !== null && s.expected !== undefined, base = (s.baseline || []).filter(function (p) { return p[1] !== null && (!ylog || p[1] > 0); });
      if (hasExp) svg('line', { x1: L, x2: W - R, y1: Y(s.expected), y2: Y(s.expected), stroke: col, 'stroke-dasharray': '6 4' }, g);
      if (base.length) {
        svg('polyline', { points: base.map(function (p) { return X(p[0]) + ',' + Y(p[1]); }).join(' '), fill: 'none', stroke: col, 'stroke-width': 1.2, 'stroke-dasharray': '2 3', 'class': 'baseline' }, g);
        base.forEach(function (p) {
          var c = svg('rect', { x: X(p[0]) - 2.5, y: Y(p[1]) - 2.5, width: 5, height: 5, fill: '#fff', stroke: col }, g);
          svg('title', {}, c).textContent = s.name + ', baseline at ' + fmtSize(p[0]) + ': ' + fmt(p[1]) + ' ' + unit + (p[2] !== null ? ' (spread ' + fmt(100 * p[2]) + '%)' : '');
        });
      }
      var it = add(legend, 'span', 'item');
      var sw = add(it, 'span', 'swatch');
      sw.style.background = col;
      var notes = (hasExp ? ['dashed: expected ' + fmt(s.expected) + ' GB/s'] : []).concat(base.length ? ['dotted: baseline'] : []);
      it.appendChild(document.createTextNode(s.name + (notes.length ? ' (' + notes.join('; ') + ')' : '')));
    });
  }
  function sweeps() {
    var s = section('sweeps', 'Sweeps');
    if (!D.bw.length && !D.time.length) { add(s, 'p', 'note', 'No sweep in this run.'); return; }
    if (D.baseline) add(s, 'p', 'note', 'Baseline (dotted lines, open squares): ' + D.baseline + '; entries matched by their keys as topobench check matches them.');
    if (D.bw.length) {
      add(s, 'h3', null, 'Bandwidth against message size');
      add(s, 'p', 'note', 'Headline bandwidth (from the mean time; busbw for collectives, nccl-tests\' formula). Shaded: the same bytes over the p99 and the minimum time.');
      plot(s, D.bw, 'bandwidth (GB/s)', false, 'plot-bw');
    }
    if (D.time.length) {
      add(s, 'h3', null, 'Time against message size');
      add(s, 'p', 'note', 'Mean time per operation (OSU\'s headline; latency tests: half round trip). Shaded: min .. p99.');
      plot(s, D.time, 'time (us)', true, 'plot-time');
    }
  }

  /* ---- topology ---- */
  function topology() {
    var s = section('topology', 'Topology per node');
    if (!D.topologies.length) add(s, 'p', 'note', 'No node has a topology in this document.');
    D.topologies.forEach(function (t) {
      var box = add(s, 'div', 'topo');
      var names = t.hosts.slice(0, 12).join(', ') + (t.hosts.length > 12 ? ' and ' + (t.hosts.length - 12) + ' more' : '');
      add(box, 'h3', null, t.hosts.length + ' node' + (t.hosts.length === 1 ? '' : 's') + ': ' + names);
      add(box, 'p', 'note', (t.cpu ? t.cpu + '; ' : '') + t.numa + ' NUMA node' + (t.numa === 1 ? '' : 's') + '; source: ' + t.source);
      if (t.rows.length) {
        var tab = add(box, 'table', 'topomat');
        var hr = add(tab, 'tr');
        add(hr, 'th');
        t.cols.forEach(function (c) { add(hr, 'th', null, c); });
        t.rows.forEach(function (r, i) {
          var tr = add(tab, 'tr');
          add(tr, 'th', null, r);
          t.cells[i].forEach(function (c) {
            var td = add(tr, 'td', 'cls-' + c.replace(/[0-9]+$/, '').replace(/[^A-Za-z]/g, ''), c);
            td.title = c;
          });
        });
        add(box, 'p', 'note', 'X self; NV#/XGMI#: that many NVLink/xGMI links; PIX one PCIe switch; PXB several; PHB through the host bridge; NODE across host bridges of one NUMA node; SYS across NUMA nodes (SMP link).');
      }
      var ul = add(box, 'ul');
      t.nics.forEach(function (n) { add(ul, 'li', null, n); });
    });
    if (D.node_findings.length) {
      add(s, 'h3', null, 'Findings of the nodes\' topologies');
      var ul = add(s, 'ul', 'findings');
      D.node_findings.forEach(function (f) {
        var li = add(ul, 'li', 'sev-' + f.severity);
        add(li, 'b', null, f.severity + ' ' + f.code + (f.object ? ' (' + f.object + ')' : '') + ': ');
        li.appendChild(document.createTextNode(f.message + ' [' + f.hosts.slice(0, 12).join(', ') + (f.hosts.length > 12 ? ' and ' + (f.hosts.length - 12) + ' more' : '') + ']'));
      });
    }
  }

  /* ---- findings, culprits' evidence, recommendations ---- */
  function findings() {
    var s = section('findings', 'Findings');
    var a = D.analysis;
    if (!D.findings.length && !(a && (a.culprits || []).length)) add(s, 'p', 'note', 'No finding.');
    if (D.findings.length) {
      var ul = add(s, 'ul', 'findings');
      D.findings.forEach(function (f) {
        var li = add(ul, 'li', 'sev-' + f.severity);
        add(li, 'b', null, f.severity + ' ' + f.code + (f.host ? ' on ' + f.host : '') + ': ');
        li.appendChild(document.createTextNode(f.message));
      });
    }
    (a && a.culprits || []).forEach(function (c) {
      var box = add(s, 'div', 'culprit');
      add(box, 'h3', null, c.kind + ': ' + c.subject);
      if (c.suggests) add(box, 'p', null, 'Look at: ' + c.suggests);
      (c.topology || []).forEach(function (t) { add(box, 'p', 'note', 'topology: ' + t); });
      (c.explains || []).forEach(function (x) {
        var ev = (x.evidence || [])[0];
        add(box, 'p', 'note', 'explains ' + x.kind + ' ' + x.subject + (ev && ev.message ? ': ' + ev.message : ''));
      });
      var tab = add(box, 'table', 'evidence');
      var hr = add(tab, 'tr');
      ['set', 'path', 'measured', 'peers\' median (MAD)', 'ratio to peers', 'expected', 'ratio to expected', 'worst cells (from->to: value)'].forEach(function (h) { add(hr, 'th', null, h); });
      (c.evidence || []).forEach(function (e) {
        var u = /_us$/.test(e.metric || '') ? ' us' : ' GB/s', tr = add(tab, 'tr');
        add(tr, 'td', null, (e.test || '') + ' ' + (e.level || '') + ' ' + (e.metric || ''));
        add(tr, 'td', null, (e.path || '') + (e.path_detail ? ' (' + e.path_detail + ')' : ''));
        add(tr, 'td', null, fmt(e.measured) + u);
        add(tr, 'td', null, fmt(e.peer_median) + u + ' (' + fmt(e.peer_mad) + ')');
        add(tr, 'td', null, fmt(e.ratio_to_peers));
        add(tr, 'td', null, e.expected_gbps === null || e.expected_gbps === undefined ? 'no model figure' : fmt(e.expected_gbps) + ' GB/s (' + (e.expected_source || '') + ')');
        add(tr, 'td', null, fmt(e.ratio_to_expected));
        add(tr, 'td', null, (e.cells || []).map(function (x) { return x.from + '->' + x.to + ': ' + fmt(x.value); }).join(', ') + (e.cells_total > (e.cells || []).length ? ' (of ' + e.cells_total + ')' : ''));
        if (e.message) { var m = add(tab, 'tr'); var td = add(m, 'td', 'evmsg', e.message); td.colSpan = 8; }
      });
    });
    if (a && (a.notes || []).length) {
      add(s, 'h3', null, 'Notes of the analysis');
      var nl = add(s, 'ul');
      a.notes.forEach(function (n) { add(nl, 'li', null, n); });
    }
  }
  /* Recommendations are shown by shape, so a newer analysis's entries appear as they come:
   * multi-line or long strings as blocks ready to copy, the rest as lines. */
  function recItem(parent, title, r) {
    if (typeof r === 'string' || typeof r === 'number' || typeof r === 'boolean') {
      if (typeof r === 'string' && (r.indexOf('\n') >= 0 || r.length > 80)) copyBlock(parent, title, r);
      else add(parent, 'p', null, title + ': ' + r);
      return;
    }
    if (r === null) return;
    var box = add(parent, 'div', 'rec');
    if (title) add(box, 'h3', null, title);
    if (Array.isArray(r)) {
      r.forEach(function (x, i) {
        var t = x && typeof x === 'object' && !Array.isArray(x) ? (x.title || x.name || x.variable || x.file || x.kind || '') : '';
        recItem(box, String(t || (title ? title + ' ' + (i + 1) : String(i + 1))), x);
      });
      return;
    }
    Object.keys(r).forEach(function (k) { if (['title', 'name'].indexOf(k) < 0 || typeof r[k] !== 'string') recItem(box, k, r[k]); });
  }
  function recommendations() {
    var s = section('recommendations', 'Recommendations');
    var a = D.analysis;
    if (!a || a.recommendations === undefined || a.recommendations === null) {
      add(s, 'p', 'note', a ? 'The analysis has no recommendations.' : 'No analysis: run `topobench analyze RESULTS.json`.');
      return;
    }
    if (D.rec_files && D.rec_files.length) {
      add(s, 'p', 'note', 'The files `topobench report` and `run` write beside results.json, ready to copy (each with its evidence in comments):');
      D.rec_files.forEach(function (f) { copyBlock(s, f.file, f.text); });
    }
    var det = add(s, 'details');
    add(det, 'summary', null, 'Every recommendation with its evidence (the analysis\'s data)');
    recItem(det, '', a.recommendations);
  }

  document.title = D.title;
  add(app, 'p', 'title', D.title);
  banner();
  runFacts();
  matrices();
  sweeps();
  topology();
  findings();
  recommendations();
  document.body.dataset.rendered = 'yes';
})();
