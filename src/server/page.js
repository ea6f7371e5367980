// xmem's live page: every 2 s it reads /api/v1/snapshot and /api/v1/history and redraws the
// sections the server rendered first, in the same shape (data-field / data-value on each number).
// Text goes in as text nodes only, never parsed as markup, so a process or pool name cannot inject
// anything. Field names are the snapshot's in snake_case; a missing one shows as "-".
'use strict';

(function () {
  const refreshMs = 2000;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let refreshes = 0;
  let lastAnswer = null;

  function h(tag, attrs, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {}))
      if (value !== undefined && value !== null) element.setAttribute(name, String(value));
    for (const child of children.flat(Infinity))
      if (child !== undefined && child !== null && child !== false)
        element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    return element;
  }
  const svg = (tag, attrs) => {
    const element = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, String(value));
    return element;
  };

  // The first defined of several spellings: page_pools carry "configured" or counts.total.
  function pick(object, ...paths) {
    for (const path of paths) {
      let value = object;
      for (const key of path.split('.')) value = value == null ? undefined : value[key];
      if (value !== undefined && value !== null) return value;
    }
    return undefined;
  }
  const num = (value) => (typeof value === 'number' ? value : Number(value) || 0);
  const list = (value) => (Array.isArray(value) ? value : []);

  function bytesText(bytes) {
    if (bytes === undefined) return '-';
    let value = num(bytes);
    let unit = 0;
    while (value >= 1024 && unit + 1 < units.length) { value /= 1024; unit++; }
    return (unit === 0 || Number.isInteger(value) ? String(value) : value.toFixed(1)) + ' ' + units[unit];
  }
  const percentText = (ratio) => (num(ratio) * 100).toFixed(1) + '%';
  function toDate(value) {
    if (typeof value === 'number') return new Date(value > 1e12 ? value : value * 1000);
    const date = new Date(value);
    return isNaN(date) ? null : date;
  }
  function utcText(date) {
    return date ? date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : '-';
  }
  function ageText(ms) {
    const seconds = Math.max(0, Math.round(ms / 1000));
    if (seconds < 90) return seconds + ' s ago';
    if (seconds < 90 * 60) return Math.round(seconds / 60) + ' min ago';
    return Math.round(seconds / 3600) + ' h ago';
  }
  // {"0": bytes} or [{node, bytes}] -> [[node, bytes]] sorted by node.
  function nodeEntries(value) {
    const entries = Array.isArray(value) ? value.map((e) => [e.node, e.bytes]) : Object.entries(value || {});
    return entries.map(([n, b]) => [Number(n), num(b)]).sort((a, b) => a[0] - b[0]);
  }
  function nodesText(value) {
    const entries = nodeEntries(value);
    return entries.length ? entries.map(([n, b]) => 'node ' + n + ': ' + bytesText(b)).join(', ') : '-';
  }
  const nodeText = (node) => (node === undefined || node === null ? 'any' : 'node ' + node);
  function backingText(part) {
    if (part.backing === 'hugetlb') return bytesText(part.page_size) + ' pages';
    if (part.backing === 'thp') return 'THP';
    return bytesText(part.page_size || 4096) + ' pages';
  }
  function partsText(parts) {
    const text = list(parts).filter((p) => num(p.bytes) > 0)
      .map((p) => bytesText(p.bytes) + ' on ' + backingText(p)).join(', ');
    return text || 'nothing resident';
  }
  const healthWords = { green: 'good', yellow: 'partly huge', red: 'not huge' };
  function badge(health) {
    const state = healthWords[health] ? health : 'red';
    return h('span', { class: 'badge ' + state, 'data-field': 'health', 'data-value': state }, healthWords[state]);
  }
  const numberCell = (field, value) =>
    h('td', { class: 'num', 'data-field': field, 'data-value': num(value) }, String(num(value)));
  const bytesCell = (field, value) =>
    h('td', { class: 'num', 'data-field': field, 'data-value': num(value) }, bytesText(num(value)));
  const textCell = (field, text) => h('td', { 'data-field': field }, text === undefined ? '-' : String(text));
  const headRow = (...names) => h('thead', {}, h('tr', {}, names.flat().map((n) => h('th', { scope: 'col' }, n))));
  // Addresses come as "0x..." text (a 64-bit number does not fit a double) or as numbers.
  const hex = (value) => (typeof value === 'string' ? value : '0x' + num(value).toString(16));

  function sparkline(values, field, label) {
    const graph = svg('svg', { class: 'spark', 'data-spark': field, viewBox: '0 0 120 24', preserveAspectRatio: 'none', role: 'img', 'aria-label': label });
    const points = values.map((v, i) => {
      const x = values.length === 1 ? 120 : (120 * i) / (values.length - 1);
      const y = 23 - 22 * Math.min(1, Math.max(0, v));
      return x.toFixed(1) + ',' + y.toFixed(1);
    });
    graph.append(svg('polyline', { points: points.join(' ') }));
    return graph;
  }

  function replaceSection(id, ...children) {
    const old = document.getElementById(id);
    if (old) old.replaceWith(h('section', { id }, children));
  }

  function worst(a, b) {
    const rank = { green: 0, yellow: 1, red: 2 };
    return (rank[b] ?? 2) > (rank[a] ?? 2) ? b : a;
  }

  function renderOverview(snapshot) {
    let huge = 0, all = 0, health = 'green';
    // The server itself once, even when it is also watched.
    const self = snapshot.self;
    const processes = [self, ...list(snapshot.processes).filter((p) => !self || p.pid !== self.pid)].filter(Boolean);
    for (const process of processes) {
      for (const part of list(process.parts)) {
        all += num(part.bytes);
        if (part.backing !== 'base') huge += num(part.bytes);
      }
      health = worst(health, process.health);
    }
    for (const allocation of list(snapshot.allocations)) health = worst(health, allocation.health);
    const ratio = all ? huge / all : 0;
    const overview = document.getElementById('overview');
    const status = document.getElementById('status') || h('span', { id: 'status', class: 'status', role: 'status' });
    overview.replaceChildren('Huge pages: ',
      h('strong', { 'data-field': 'huge_share', 'data-value': ratio.toFixed(4) }, percentText(ratio)),
      ' of ' + bytesText(all) + ' watched memory \u00b7 health ', badge(health), ' \u00b7 snapshot ',
      h('time', { 'data-field': 'taken_at' }, utcText(toDate(snapshot.taken_at))), ' \u00b7 ', status);
  }

  function renderPagePools(snapshot) {
    const rows = list(snapshot.page_pools).map((pool) => {
      const systemWide = pool.node === undefined || pool.node === null;
      const configured = num(pick(pool, 'configured_pages', 'configured', 'counts.total'));
      const free = num(pick(pool, 'free_pages', 'free', 'counts.free'));
      const added = num(pick(pool, 'added_by_xmem_pages', 'added_by_xmem'));
      const putBack = added === 0 ? '-' : pool.restored_on_release
        ? 'yes, to ' + num(pick(pool, 'count_before_xmem_pages', 'count_before_xmem')) : 'no, stays';
      return h('tr', { 'data-node': systemWide ? 'all' : pool.node, 'data-page-size': num(pool.page_size) },
        h('th', { scope: 'row' }, systemWide ? 'all nodes' : 'node ' + pool.node), h('td', {}, bytesText(pool.page_size)),
        numberCell('configured', configured), numberCell('free', free),
        numberCell('in_use', Math.max(0, configured - free)),
        numberCell('surplus', pick(pool, 'surplus_pages', 'surplus', 'counts.surplus')),
        systemWide ? numberCell('reserved', pick(pool, 'reserved_pages', 'reserved', 'counts.reserved'))
          : h('td', { class: 'num', 'data-field': 'reserved' }, '-'),
        numberCell('added_by_xmem', added), textCell('put_back', putBack));
    });
    replaceSection('page-pools', h('h2', {}, 'Huge pages per node'), h('table', {},
      headRow('node', 'page size', 'configured', 'free', 'in use', 'surplus', 'reserved', 'added by xmem',
        'put back on release'),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 9 }, 'this kernel has no huge page pools')))));
  }

  function mappingsTable(process) {
    const mappings = list(process.mappings);
    if (!mappings.length) return null;
    return h('table', { class: 'mappings' }, h('caption', {}, 'Large mappings'),
      headRow('start', 'mapping', 'size', 'resident', 'backed by', 'nodes', 'state', 'why not huge'),
      h('tbody', {}, mappings.map((m) => h('tr', { 'data-start': hex(m.start) },
        h('td', { class: 'mono' }, hex(m.start)), textCell('name', m.name || '(anonymous)'),
        bytesCell('size_bytes', m.size_bytes), bytesCell('resident_bytes', m.resident_bytes),
        textCell('parts', partsText(m.parts)), textCell('nodes', nodesText(m.bytes_by_node)),
        h('td', {}, badge(m.health)), textCell('reason', m.reason || '')))));
  }

  function preloadTable(process) {
    if (!process.under_preload) return null;
    const records = list(process.preload);
    const rows = records.map((r) => h('tr', { 'data-address': hex(r.address) },
      h('td', { class: 'mono' }, hex(r.address)), textCell('source', r.source),
      bytesCell('requested_bytes', r.requested_bytes), bytesCell('mapped_bytes', r.mapped_bytes),
      bytesCell('huge_tlb_bytes', pick(r, 'huge_tlb_bytes', 'hugetlb_bytes')),
      textCell('page_size', r.page_size ? bytesText(r.page_size) : '-'), textCell('node_asked', nodeText(r.node_asked)),
      textCell('locked', r.locked ? 'yes' : 'no')));
    return h('table', { class: 'preload' }, h('caption', {}, "Under xmem's preload: its large allocations"),
      headRow('address', 'call', 'asked', 'mapped', 'on huge pages', 'page size', 'node asked', 'locked'),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 8 }, 'no large allocation yet'))));
  }

  function processBlock(process, isSelf) {
    const title = h('h3', {}, (process.command || '?') + ' ', h('span', { class: 'mono' }, 'pid ' + process.pid),
      isSelf ? ' (this server)' : '', ' ', badge(process.health));
    if (process.error)
      return h('article', { class: 'process', 'data-pid': process.pid }, title,
        h('p', { class: 'error', 'data-field': 'error' }, 'cannot read it: ' + process.error));
    const byNode = {};
    for (const mapping of list(process.mappings))
      for (const [node, bytes] of nodeEntries(mapping.bytes_by_node)) byNode[node] = (byNode[node] || 0) + bytes;
    const kv = (label, field, value) => [h('th', { scope: 'row' }, label), bytesCell(field, value)];
    return h('article', { class: 'process', 'data-pid': process.pid }, title,
      process.reason ? h('p', { class: 'reason', 'data-field': 'reason' }, process.reason) : null,
      h('table', { class: 'kv' }, h('tbody', {}, h('tr', {}, kv('resident', 'resident_bytes', process.resident_bytes),
        kv('peak', 'peak_resident_bytes', process.peak_resident_bytes), kv('locked', 'locked_bytes', process.locked_bytes),
        kv('hugetlb', 'huge_tlb_bytes', pick(process, 'huge_tlb_bytes', 'hugetlb_bytes'))))),
      h('p', { class: 'parts' }, 'Large mappings: ', h('span', { 'data-field': 'parts' }, partsText(process.parts)),
        '; by node: ', h('span', { 'data-field': 'nodes' }, nodesText(byNode))),
      mappingsTable(process), preloadTable(process));
  }

  function renderProcesses(snapshot) {
    replaceSection('processes', h('h2', {}, 'Processes'), snapshot.self ? processBlock(snapshot.self, true) : null,
      list(snapshot.processes).filter((p) => !snapshot.self || p.pid !== snapshot.self.pid)
        .map((p) => processBlock(p, false)));
  }

  function renderAllocations(snapshot) {
    const rows = list(snapshot.allocations).map((a) => h('tr', { 'data-address': hex(a.address) },
      textCell('name', a.name || '(unnamed)'), bytesCell('requested_bytes', a.requested_bytes),
      bytesCell('mapped_bytes', a.mapped_bytes), textCell('parts', partsText(a.parts)),
      textCell('node_asked', nodeText(a.node_asked)), textCell('nodes', nodesText(a.resident_bytes_by_node)),
      textCell('policy', (a.policy || '-') + (a.bound === false ? ' (not applied)' : '')),
      textCell('locked', a.locked ? 'yes' : 'no'), textCell('prefaulted', a.prefaulted ? 'yes' : 'no'),
      h('td', {}, badge(a.health)), textCell('reason', a.reason || '')));
    replaceSection('allocations', h('h2', {}, "xmem's allocations in this process"), h('table', {},
      headRow('name', 'asked', 'mapped', 'obtained', 'node asked', 'node obtained', 'policy', 'locked', 'pre-faulted',
        'state', 'why'),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 10 }, 'xmem made no allocation in this process')))));
  }

  function sumOf(value) {
    if (Array.isArray(value)) return value.reduce((s, v) => s + num(v), 0);
    return Object.values(value || {}).reduce((s, v) => s + num(v), 0);
  }

  function renderPools(snapshot, samples) {
    const rows = list(snapshot.pools).map((pool) => {
      const points = samples.map((s) => list(s.pools).find((p) => p.pool === pool.pool && p.node === pool.node))
        .filter(Boolean);
      const used = points.map((p) => (num(p.capacity_bytes) ? num(p.in_use_bytes) / num(p.capacity_bytes) : 0));
      const fragmentation = points.map((p) => num(p.fragmentation));
      const capacity = num(pool.capacity_bytes);
      const utilisation = capacity ? num(pool.in_use_bytes) / capacity : 0;
      return h('tr', { 'data-pool': pool.pool, 'data-node': pool.node },
        h('th', { scope: 'row' }, pool.pool), h('td', { class: 'num' }, String(pool.node)),
        bytesCell('in_use_bytes', pool.in_use_bytes), bytesCell('capacity_bytes', capacity),
        textCell('utilisation', percentText(utilisation)), bytesCell('high_water_bytes', pool.high_water_bytes),
        bytesCell('largest_free_block_bytes', pool.largest_free_block_bytes),
        h('td', { class: 'num', 'data-field': 'fragmentation', 'data-value': num(pool.fragmentation).toFixed(4) },
          percentText(pool.fragmentation)),
        numberCell('allocations', pool.allocations), numberCell('failures', sumOf(pool.failures)),
        numberCell('fallbacks_out', pool.fallbacks_out),
        h('td', {}, sparkline(used, 'utilisation', 'utilisation over 15 min, now ' + percentText(utilisation)),
          sparkline(fragmentation, 'fragmentation', 'fragmentation over 15 min, now ' + percentText(pool.fragmentation))));
    });
    replaceSection('pools', h('h2', {}, 'Pools'), h('table', {},
      headRow('pool', 'node', 'in use', 'capacity', 'used', 'high water', 'largest free', 'fragmentation', 'allocations',
        'failures', 'fallbacks out', '15 min: used, fragmentation'),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 12 }, 'no pool in this process')))));
  }

  function rateText(samples, field) {
    if (samples.length < 2) return 'rate: needs two samples';
    const first = samples[0], last = samples[samples.length - 1];
    const minutes = (toDate(pick(last, 'at_unix_seconds', 'at')) - toDate(pick(first, 'at_unix_seconds', 'at'))) / 60000;
    if (!(minutes > 0)) return 'rate: needs two samples';
    const delta = Math.max(0, num(last[field]) - num(first[field]));
    return (delta / minutes).toFixed(1) + '/min over ' + Math.ceil(minutes) + ' min';
  }

  function limitText(value) {
    if (value === undefined || value === null || value === 'unlimited' || num(value) >= 1.8e19) return 'unlimited';
    return bytesText(value);
  }

  function renderKernel(snapshot, samples) {
    const kernel = snapshot.kernel || {};
    const thp = kernel.thp || {};
    const memlock = kernel.memlock || {};
    const counters = kernel.counters || {};
    const zones = list(kernel.fragmentation).map((zone) => {
      const index = samples.map((s) => list(s.nodes).find((n) => n.node === zone.node)).filter(Boolean)
        .map((n) => num(n.unusable_free_index));
      const now = num(zone.unusable_free_index);
      return h('tr', { 'data-node': zone.node, 'data-zone': zone.zone }, h('th', { scope: 'row' }, 'node ' + zone.node),
        textCell('zone', zone.zone), numberCell('huge_page_blocks', zone.huge_page_blocks),
        h('td', { class: 'num', 'data-field': 'unusable_free_index', 'data-value': now.toFixed(4) }, now.toFixed(3)),
        h('td', {}, sparkline(index, 'unusable_free_index', 'unusable index over 15 min, now ' + now.toFixed(3))));
    });
    const counterRow = (name) => h('tr', { 'data-counter': name }, h('th', { scope: 'row' }, name),
      numberCell('value', counters[name]), textCell('rate', rateText(samples, name)));
    // A null limit is an unlimited one; no memlock object at all is one not read.
    const memlockText = !kernel.memlock ? '-' : memlock.privileged ? 'none (privileged)'
      : limitText(pick(memlock, 'soft_bytes', 'soft')) + ' (hard ' + limitText(pick(memlock, 'hard_bytes', 'hard')) + ')';
    replaceSection('kernel', h('h2', {}, 'Kernel'),
      h('p', {}, 'THP ', h('strong', { 'data-field': 'thp_mode' }, thp.mode || '-'), ', defrag ',
        h('strong', { 'data-field': 'thp_defrag' }, thp.defrag || '-'), ' \u00b7 memlock limit ',
        h('strong', { 'data-field': 'memlock' }, memlockText)),
      h('table', { id: 'fragmentation' },
        h('caption', {}, '2 MiB pages obtainable now, and the unusable free index at 2 MiB (0: all free memory usable, 1: none)'),
        headRow('node', 'zone', '2 MiB blocks', 'unusable index', '15 min'),
        h('tbody', {}, zones.length ? zones : h('tr', {}, h('td', { colspan: 5 }, "the kernel's free lists were not read")))),
      h('table', { id: 'counters' }, h('caption', {}, 'Fallbacks and compaction'), headRow('counter', 'since boot', 'rate'),
        h('tbody', {}, counterRow('thp_fault_fallback'), counterRow('compact_fail'))),
      h('p', { class: 'note', 'data-field': 'one_gb_availability' }, kernel.one_gb_availability ||
        "1 GiB availability cannot be read: the buddy allocator's orders stop at 4 MiB; only an attempt tells."));
  }

  function bandwidthTable(figures, kernel) {
    const mine = figures.filter((f) => f.kernel === kernel);
    const cpus = [...new Set(mine.map((f) => f.cpu_node))].sort((a, b) => a - b);
    const memories = [...new Set(mine.map((f) => f.memory_node))].sort((a, b) => a - b);
    return h('table', { class: 'bandwidth', 'data-kernel': kernel }, h('caption', {}, kernel + ': GB/s, best of the runs'),
      headRow('CPU node \\ memory node', memories.map((m) => 'node ' + m)),
      h('tbody', {}, cpus.map((cpu) => h('tr', {}, h('th', { scope: 'row' }, 'node ' + cpu), memories.map((memory) => {
        const f = mine.find((x) => x.cpu_node === cpu && x.memory_node === memory);
        return f ? h('td', { class: 'num', 'data-cpu-node': cpu, 'data-memory-node': memory,
          'data-value': num(f.best_bytes_per_second) }, (num(f.best_bytes_per_second) / 1e9).toFixed(1)) : h('td', {}, '-');
      })))));
  }

  function renderBandwidth(snapshot) {
    const matrix = snapshot.bandwidth;
    const figures = list(matrix && matrix.figures);
    if (!figures.length) {
      replaceSection('bandwidth', h('h2', {}, 'Memory bandwidth'),
        h('p', { 'data-field': 'bandwidth_age' }, 'not measured: POST /api/v1/actions/bandwidth'));
      return;
    }
    // The age at the snapshot, as the server wrote it: the browser's clock may not be the rig's.
    const measured = toDate(matrix.measured_at);
    const taken = toDate(snapshot.taken_at) || new Date();
    const age = typeof matrix.age_seconds === 'number' ? ageText(matrix.age_seconds * 1000)
      : measured ? ageText(taken.getTime() - measured.getTime()) : '-';
    const kernels = [...new Set(figures.map((f) => f.kernel))];
    replaceSection('bandwidth', h('h2', {}, 'Memory bandwidth'),
      h('p', {}, 'measured ', h('span', { 'data-field': 'bandwidth_age' }, age), ' (' + utcText(measured) + ')'),
      kernels.map((k) => bandwidthTable(figures, k)));
  }

  function setStatus(text, stale) {
    const status = document.getElementById('status');
    if (!status) return;
    status.textContent = text;
    status.classList.toggle('stale', stale);
  }

  async function fetchJson(path) {
    const response = await fetch(path, { cache: 'no-store', headers: { Accept: 'application/json' } });
    if (!response.ok) throw new Error(path + ': HTTP ' + response.status);
    return response.json();
  }

  async function refresh() {
    try {
      const [snapshot, history] = await Promise.all([fetchJson('/api/v1/snapshot'), fetchJson('/api/v1/history')]);
      const samples = list(history && history.samples);
      renderOverview(snapshot);
      renderPagePools(snapshot);
      renderProcesses(snapshot);
      renderAllocations(snapshot);
      renderPools(snapshot, samples);
      renderKernel(snapshot, samples);
      renderBandwidth(snapshot);
      lastAnswer = new Date();
      refreshes++;
      document.body.dataset.refreshed = String(refreshes);
      setStatus('live, updated ' + lastAnswer.toTimeString().slice(0, 8), false);
    } catch (error) {
      document.body.dataset.refreshError = String(error && error.message ? error.message : error);
      setStatus(lastAnswer ? 'server not answering since ' + lastAnswer.toTimeString().slice(0, 8)
        : 'server not answering', true);
    } finally {
      setTimeout(refresh, refreshMs);
    }
  }

  // Anything the Content-Security-Policy refused is counted on <body>, where a test can see it.
  document.addEventListener('securitypolicyviolation', (event) => {
    const count = Number(document.body.dataset.cspViolations || 0) + 1;
    document.body.dataset.cspViolations = String(count);
    document.body.dataset.cspViolation = event.violatedDirective + ' ' + (event.blockedURI || 'inline');
  });
  refresh();
})();
