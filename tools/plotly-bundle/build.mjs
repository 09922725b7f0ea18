// Builds src/riskkit/documents/assets/plotly-riskkit.min.js from entry.js. Run: npm ci && npm run build
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const plotlyDir = dirname(require.resolve('plotly.js/package.json'));
const version = require('plotly.js/package.json').version;
const esbuildVersion = require('esbuild/package.json').version;
const copyright = readFileSync(join(plotlyDir, 'LICENSE'), 'utf8').match(/^Copyright .*$/m)[0];
const out = join(here, '..', '..', 'src', 'riskkit', 'documents', 'assets', 'plotly-riskkit.min.js');

const banner = `/*! riskkit plotly.js bundle: plotly.js v${version} (MIT License, ${copyright})
 * with only the trace types riskkit draws: scatter, bar, heatmap, scatterpolar, barpolar, funnel.
 * Built by tools/plotly-bundle (entry.js, build.mjs; esbuild ${esbuildVersion}): do not edit by hand. */`;

const result = await build({
    entryPoints: [join(here, 'entry.js')],
    bundle: true,
    format: 'iife',
    minify: true,
    write: false,
    target: 'es2016',
    legalComments: 'none',
    banner: { js: banner },
    charset: 'utf8',
    // the settings of plotly.js's own esbuild-config.js
    alias: { regl: '@plotly/regl', stream: 'stream-browserify' },
    define: { global: 'window', 'define.amd': 'false', 'process.env.NODE_DEBUG': 'false' },
    // src/registry.js requires maplibre's CSS for map traces, which this bundle leaves out
    loader: { '.css': 'empty' },
    logLevel: 'warning',
});

// Reports inline the bundle in a <script> element, which a literal "</script" would end early.
const code = result.outputFiles[0].text.replace(/<\/(script)/gi, '<\\/$1');
const tmp = `${out}.tmp`;
writeFileSync(tmp, code);
renameSync(tmp, out);
console.log(`${out}: ${Buffer.byteLength(code)} bytes (plotly.js ${version})`);
