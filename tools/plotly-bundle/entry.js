// riskkit's plotly.js: the core (scatter, which also draws lines, plus the components: error bars, legend,
// hover, modebar, ...) and only the trace types riskkit draws. Check src/riskkit/figures.py and
// src/riskkit/explorer.py before removing one; add one here when a figure starts using it.
'use strict';

var Plotly = require('plotly.js/lib/core');

Plotly.register([
    require('plotly.js/lib/bar'), // metric_bars, domain_scores, disclosed_bars, explorer histogram
    require('plotly.js/lib/heatmap'), // risk_heatmap
    require('plotly.js/lib/scatterpolar'), // maturity_radar
    require('plotly.js/lib/barpolar'), // polar bars (kept with scatterpolar: same polar subplot code)
    require('plotly.js/lib/funnel') // explorer funnel
]);

window.Plotly = Plotly;
