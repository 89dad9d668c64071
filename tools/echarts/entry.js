// Only what templates/dashboard and static/js/dashboard.js use: line, bar, pie and funnel
// charts with title, tooltip, legend and grid, drawn as SVG. Add a chart type here first.
import * as echarts from "echarts/core";
import { BarChart, FunnelChart, LineChart, PieChart } from "echarts/charts";
import {
  GridComponent,
  LegendComponent,
  TitleComponent,
  TooltipComponent,
} from "echarts/components";
import { SVGRenderer } from "echarts/renderers";

echarts.use([
  BarChart,
  FunnelChart,
  LineChart,
  PieChart,
  GridComponent,
  LegendComponent,
  TitleComponent,
  TooltipComponent,
  SVGRenderer,
]);

export const init = echarts.init;
export const use = echarts.use;
