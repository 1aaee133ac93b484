//! Charts as SVG geometry for the reports page's template: bars and lines with their numbers
//! written on them (no colour alone carries a value), scaled into a viewBox so they shrink
//! with the page, and scrolled sideways when a long range would make them unreadable.
//! Hand-built: a plotting crate's SVG backend needs a font engine to lay out text, which a
//! Lambda has no fonts for, and writes fixed pixel sizes; this is a few rectangles.

/// Height of the plot area, and the room around it for labels.
const PLOT_H: f64 = 160.0;
const TOP: f64 = 18.0;
const BOTTOM: f64 = 30.0;
const LEFT: f64 = 8.0;
/// Width given to each period: a few periods (weeks) get wide bars, many stay readable.
fn slot(periods: usize) -> f64 {
    (960.0 / periods.max(1) as f64).clamp(36.0, 96.0)
}

pub struct Rect {
    pub x: String,
    pub y: String,
    pub w: String,
    pub h: String,
    pub class: &'static str,
    /// The number it stands for, written above it.
    pub label: String,
    pub label_x: String,
    pub label_y: String,
}

pub struct Point {
    pub x: String,
    pub y: String,
    pub label: String,
    pub label_y: String,
}

pub struct Tick {
    pub x: String,
    pub y: String,
    pub text: String,
}

/// One chart: its viewBox size, bars or a line, and the period labels under them.
pub struct Chart {
    pub width: String,
    pub height: String,
    pub baseline: String,
    pub bars: Vec<Rect>,
    /// A polyline's points, `x,y x,y`.
    pub line: String,
    pub points: Vec<Point>,
    pub ticks: Vec<Tick>,
}

fn f(v: f64) -> String {
    format!("{v:.1}")
}

fn scale(max: i64) -> f64 {
    if max <= 0 {
        0.0
    } else {
        PLOT_H / max as f64
    }
}

fn ticks(labels: &[String]) -> Vec<Tick> {
    let slot = slot(labels.len());
    labels
        .iter()
        .enumerate()
        .map(|(i, text)| Tick { x: f(LEFT + slot * (i as f64 + 0.5)), y: f(TOP + PLOT_H + 16.0), text: text.clone() })
        .collect()
}

fn frame(periods: usize) -> (String, String, String) {
    (f(LEFT * 2.0 + slot(periods) * periods.max(1) as f64), f(TOP + PLOT_H + BOTTOM), f(TOP + PLOT_H))
}

/// Two bars per period (the series side by side, in the legend's order).
pub fn paired_bars(labels: &[String], series: [(&'static str, &[i64]); 2]) -> Chart {
    let max = series.iter().flat_map(|(_, values)| values.iter().copied()).max().unwrap_or(0);
    let k = scale(max);
    let slot = slot(labels.len());
    let bar_w = (slot / 2.0 - 4.0).min(28.0);
    let inset = (slot - 2.0 * bar_w - 2.0) / 2.0;
    let mut bars = vec![];
    for (s, (class, values)) in series.iter().enumerate() {
        for (i, value) in values.iter().enumerate() {
            let h = *value as f64 * k;
            let x = LEFT + slot * i as f64 + inset + s as f64 * (bar_w + 2.0);
            let y = TOP + PLOT_H - h;
            bars.push(Rect {
                x: f(x),
                y: f(y),
                w: f(bar_w),
                h: f(h),
                class,
                label: value.to_string(),
                label_x: f(x + bar_w / 2.0),
                label_y: f(y - 3.0),
            });
        }
    }
    let (width, height, baseline) = frame(labels.len());
    Chart { width, height, baseline, bars, line: String::new(), points: vec![], ticks: ticks(labels) }
}

/// A line through one value per period, each point labelled.
pub fn line(labels: &[String], values: &[i64]) -> Chart {
    let k = scale(values.iter().copied().max().unwrap_or(0));
    let slot = slot(labels.len());
    let points: Vec<Point> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let y = TOP + PLOT_H - (*v).max(0) as f64 * k;
            Point { x: f(LEFT + slot * (i as f64 + 0.5)), y: f(y), label: v.to_string(), label_y: f(y - 6.0) }
        })
        .collect();
    let line = points.iter().map(|p| format!("{},{}", p.x, p.y)).collect::<Vec<_>>().join(" ");
    let (width, height, baseline) = frame(labels.len());
    Chart { width, height, baseline, bars: vec![], line, points, ticks: ticks(labels) }
}

/// Horizontal bars, one per bucket of a distribution, its label left and count right.
pub struct Distribution {
    pub height: String,
    pub rows: Vec<(String, Rect)>,
}

pub fn distribution(rows: &[(String, i64)]) -> Distribution {
    const ROW: f64 = 26.0;
    const LABEL_W: f64 = 90.0;
    const BAR_MAX: f64 = 240.0;
    let max = rows.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let k = if max > 0 { BAR_MAX / max as f64 } else { 0.0 };
    let drawn = rows
        .iter()
        .enumerate()
        .map(|(i, (label, n))| {
            let w = *n as f64 * k;
            let y = 4.0 + ROW * i as f64;
            let rect = Rect {
                x: f(LABEL_W),
                y: f(y),
                w: f(w),
                h: f(ROW - 8.0),
                class: "series-a",
                label: n.to_string(),
                label_x: f(LABEL_W + w + 6.0),
                label_y: f(y + ROW / 2.0),
            };
            (label.clone(), rect)
        })
        .collect();
    Distribution { height: f(8.0 + ROW * rows.len() as f64), rows: drawn }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_stand_on_the_baseline_with_their_number_above_them() {
        let labels = vec!["12-01".to_string(), "12-02".to_string()];
        let chart = paired_bars(&labels, [("series-a", &[4, 0]), ("series-b", &[2, 1])]);
        assert_eq!(chart.bars.len(), 4);
        let tallest = &chart.bars[0];
        assert_eq!((tallest.y.as_str(), tallest.h.as_str(), tallest.label.as_str()), ("18.0", "160.0", "4"));
        // Every bar ends on the baseline.
        for bar in &chart.bars {
            let bottom: f64 = bar.y.parse::<f64>().unwrap() + bar.h.parse::<f64>().unwrap();
            assert_eq!(f(bottom), chart.baseline);
        }
        assert_eq!(chart.ticks.iter().map(|t| t.text.as_str()).collect::<Vec<_>>(), ["12-01", "12-02"]);
        // Nothing to draw draws flat bars, not a division by zero.
        let empty = line(&labels, &[0, 0]);
        assert_eq!(empty.line, "56.0,178.0 152.0,178.0");
    }
}
