//! The chart in BENCHMARKS.md: mean per-command cost against the number of stored events, one
//! line per store, drawn from the scaling scenarios of the same run.

use std::path::Path;

use plotters::prelude::*;

/// One store's measurements: (events in the store, mean cost per command in µs).
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// Draws `series` as an SVG at `path` (log-log: the stores' costs differ by three orders).
pub fn draw(path: &Path, series: &[Series]) -> Result<(), Box<dyn std::error::Error>> {
    let all = || series.iter().flat_map(|s| s.points.iter().copied());
    let x_max = all().map(|p| p.0).fold(1.0, f64::max) * 2.0;
    let x_min = all().map(|p| p.0).fold(f64::MAX, f64::min) / 2.0;
    let y_max = all().map(|p| p.1).fold(1.0, f64::max) * 3.0;
    let y_min = all().map(|p| p.1).fold(f64::MAX, f64::min) / 3.0;

    let root = SVGBackend::new(path, (900, 540)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Mean cost per command against store size",
            ("sans-serif", 22),
        )
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d((x_min..x_max).log_scale(), (y_min..y_max).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("events in the store (log)")
        .y_desc("µs per command (log)")
        .x_label_formatter(&|x| format!("{:.0}k", x / 1000.0))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()?;
    for (i, s) in series.iter().enumerate() {
        let color = [BLUE, RED, GREEN, MAGENTA][i % 4];
        chart
            .draw_series(LineSeries::new(s.points.clone(), color.stroke_width(2)))?
            .label(s.name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        chart.draw_series(
            s.points
                .iter()
                .map(move |&point| Circle::new(point, 4, color.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
