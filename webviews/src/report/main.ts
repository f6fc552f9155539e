/**
 * Entry of the quality report page (dist/webviews/report.js and report.css), which `trajlab
 * report` inlines into one self-contained HTML file (server/src/stats/qualityReportHtml.ts).
 * The page reads the report from its `<script type="application/json" id="trajlab-quality-data">`
 * block, renders it with the Dataset panel's own view (../dataset/qualityView.ts) and charts, and
 * links every example to `vscode://trajlab.trajlab/inspect?trajectory=…&step=…`, which VS Code
 * hands to the TrajLab extension. No network, no VS Code API.
 */
import { QUALITY_REPORT_DATA_ID, type QualityReport } from '../../../common/src/qualityReport';
import { inspectUri } from '../../../common/src/inspectUri';
import { h } from '../common/dom';
import { ChartSet } from '../dataset/charts';
import '../dataset/dataset.css';
import { renderQuality } from '../dataset/qualityView';
import './report.css';

const app = document.getElementById('app') ?? document.body.appendChild(document.createElement('div'));
const data = document.getElementById(QUALITY_REPORT_DATA_ID);
let report: QualityReport | undefined;
try {
  report = JSON.parse(data?.textContent ?? '') as QualityReport;
} catch (err) {
  app.append(h('p', { class: 'failed', role: 'alert' }, `This report's data cannot be read: ${(err as Error).message}`));
}
if (report) {
  const created = new Date(report.created_at);
  app.append(
    h(
      'header',
      { class: 'header' },
      h(
        'div',
        { class: 'heading' },
        h('h1', { class: 'title' }, 'TrajLab quality report'),
        h('p', { class: 'sources' }, `${report.sources.map((s) => s.path).join(' · ')} — ${Number.isNaN(created.getTime()) ? report.created_at : created.toLocaleString()}, TrajLab ${report.trajlab_version}`),
      ),
    ),
    h('p', { class: 'note' }, 'Links open the trajectory at that step in VS Code (the TrajLab extension, in a window whose workspace holds the trajectory).'),
    renderQuality({ report, charts: new ChartSet(), linkTo: (file, step) => ({ href: inspectUri(file, step) }) }),
  );
}
