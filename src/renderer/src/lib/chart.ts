// Chart.js with only the pieces Score Lab draws: line charts (loss curves) with decimation,
// zoom and pan; bar charts (loss per time bucket); linear and log scales; tooltip and legend.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Decimation,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip
} from 'chart.js'
import zoomPlugin from 'chartjs-plugin-zoom'

Chart.register(LineController, LineElement, PointElement, BarController, BarElement, LinearScale, LogarithmicScale, CategoryScale, Decimation, Tooltip, Legend, zoomPlugin)

// Axis and legend text in the app's own face and size.
Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
Chart.defaults.font.size = 11

export { Chart }

/** Series colours, distinct in both themes (the first is the accent). */
export const SERIES_COLORS = ['#4f7fe0', '#e8743b', '#19a979', '#d64d8a', '#945ecf', '#13a4b4', '#c9a227', '#7b8a99']

export function seriesColor(i: number): string {
  return SERIES_COLORS[i % SERIES_COLORS.length]!
}

/** Theme colours for axes and grid, read from the CSS variables of base.css. */
export function themeColors(): { text: string; text2: string; grid: string; surface: string; border: string } {
  const css = getComputedStyle(document.documentElement)
  const v = (name: string) => css.getPropertyValue(name).trim()
  return { text: v('--text'), text2: v('--text-2'), grid: v('--border'), surface: v('--surface'), border: v('--border') }
}
