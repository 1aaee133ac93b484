//! A report as JSON and as CSV (one row per period, the same numbers).

use crate::domain::reports::records::SlaTarget;
use crate::domain::reports::report::{Period, PeriodRow, Report, Times};
use serde_json::{json, Value};

fn times_json(t: &Times) -> Value {
    json!({"median": t.median, "p90": t.p90, "count": t.count})
}

pub fn period_json(row: &PeriodRow) -> Value {
    let sla: serde_json::Map<String, Value> = SlaTarget::ALL
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str().to_string(), json!({"met": row.sla[i].0, "breached": row.sla[i].1})))
        .collect();
    json!({
        "start": row.start,
        "created": row.created,
        "closed": row.closed,
        "reopened": row.reopened,
        "backlog": row.backlog,
        "first_reply": times_json(&row.first_reply),
        "resolution": times_json(&row.resolution),
        "sla": sla,
        "csat": {"good": row.csat.0, "bad": row.csat.1},
    })
}

pub fn report_json(report: &Report) -> Value {
    json!({
        "project": report.project,
        "from": report.from,
        "to": report.to,
        "by": match report.by { Period::Day => "day", Period::Week => "week" },
        "assignee": report.assignee,
        "time_zone": report.time_zone,
        "periods": report.periods.iter().map(period_json).collect::<Vec<_>>(),
        "total": period_json(&report.total),
    })
}

const CSV_HEADER: [&str; 19] = [
    "start",
    "created",
    "closed",
    "reopened",
    "backlog",
    "first_reply_median",
    "first_reply_p90",
    "resolution_median",
    "resolution_p90",
    "sla_first_reply_met",
    "sla_first_reply_breached",
    "sla_next_reply_met",
    "sla_next_reply_breached",
    "sla_resolution_met",
    "sla_resolution_breached",
    "csat_good",
    "csat_bad",
    "first_replies",
    "resolutions",
];

/// The report as CSV: a header, then one row per period; times in seconds, empty when none.
pub fn report_csv(report: &Report) -> String {
    let mut out = csv::Writer::from_writer(vec![]);
    let written = (|| -> Result<(), csv::Error> {
        out.write_record(CSV_HEADER)?;
        for row in &report.periods {
            let time = |t: Option<i64>| t.map(|t| t.to_string()).unwrap_or_default();
            let mut record = vec![row.start.clone()];
            record.extend([row.created, row.closed, row.reopened, row.backlog].map(|n| n.to_string()));
            record.extend(
                [row.first_reply.median, row.first_reply.p90, row.resolution.median, row.resolution.p90].map(time),
            );
            for (met, breached) in row.sla {
                record.extend([met.to_string(), breached.to_string()]);
            }
            record.extend([row.csat.0, row.csat.1, row.first_reply.count, row.resolution.count].map(|n| n.to_string()));
            out.write_record(&record)?;
        }
        out.flush()?;
        Ok(())
    })();
    written.expect("writing CSV to memory does not fail");
    String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
}
