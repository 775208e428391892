import { loadProject } from '/tmp/kdist/pipeline/load/index.js';
for (let k = 0; k < 8; k++) { const t0 = performance.now(); const p = loadProject('/tmp/kiln-load-MEbbiW'); p.scope(p.element('top.bst'), 'all'); console.log((performance.now() - t0).toFixed(1)); }
