//! The console's queue at the widths people use it: a laptop (1366 px), the same laptop at
//! 200% zoom (683 CSS px) and a phone (390 px). No word breaks mid-word (addresses aside:
//! one long word may wrap where it must), every value on a narrow screen says what it is,
//! times read "5 min ago" with the exact time kept, and the pager goes both ways.

use super::{raise, sign_in_in};
use helpdesk_tests::browser::Browser;
use helpdesk_tests::Harness;
use serde_json::Value;

/// Words of the queue's cells (addresses aside) whose letters sit on more than one line.
const BROKEN_WORDS: &str = r#"
const broken = [];
for (const td of document.querySelectorAll('table.queue td:not(.address)')) {
  const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const m of node.data.matchAll(/\S+/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
      if (lines.size > 1) broken.push(m[0]);
    }
  }
}
return broken;"#;

/// Cells whose value shows no label in front of it (on narrow screens, where the table's
/// header row is hidden).
const UNLABELED: &str = r#"
return [...document.querySelectorAll('table.queue td[data-label]')]
  .filter(td => { const c = getComputedStyle(td, '::before').content; return !c || c === 'none' || c === 'normal'; })
  .map(td => td.textContent);"#;

async fn run(b: &Browser, script: &str) -> Vec<Value> {
    b.client.execute(script, vec![]).await.unwrap().as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn the_queue_reads_well_at_every_width_and_pages_both_ways() {
    let h = Harness::start().await;
    h.admin_with_project("HD").await;
    let admin = h.email("admin");
    let customer = h.sign_in(&h.email("a-customer-with-a-rather-long-address")).await;
    let mut keys = vec![];
    for n in 1..=27 {
        keys.push(raise(&h, &customer, &format!("Invoice {n} shows the wrong VAT number for our subsidiary")).await);
    }

    let b = Browser::start("queue").await;
    sign_in_in(&b, &h, &admin).await;
    let queue = format!("{}/desk/projects/HD?status=open", h.base);
    for (width, height, what) in [(1366, 900, "laptop"), (683, 450, "zoom-200"), (390, 844, "phone")] {
        b.client.set_window_size(width, height).await.unwrap();
        b.goto(&queue).await;
        b.client.execute("document.querySelector('table.queue').scrollIntoView()", vec![]).await.unwrap();
        b.shot(what).await;
        let broken = run(&b, BROKEN_WORDS).await;
        assert!(broken.is_empty(), "{what}: words split across lines: {broken:?}");
        if width < 960 {
            let unlabeled = run(&b, UNLABELED).await;
            assert!(unlabeled.is_empty(), "{what}: values without a label: {unlabeled:?}");
        }
    }

    // Times: how long ago, the exact time on hover and for machines.
    b.client.set_window_size(1366, 900).await.unwrap();
    b.goto(&queue).await;
    let time = b.client.find(fantoccini::Locator::Css("table.queue time")).await.unwrap();
    assert_eq!(time.text().await.unwrap(), "just now");
    assert!(time.attr("datetime").await.unwrap().is_some_and(|d| d.ends_with('Z')));
    assert!(time.attr("title").await.unwrap().is_some_and(|t| t.ends_with(" UTC")));

    // The order: latest activity unless another is picked.
    let current = b.client.find(fantoccini::Locator::Css("nav.sorts a[aria-current=page]")).await.unwrap();
    assert_eq!(current.text().await.unwrap(), "Latest activity");
    b.client.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    b.shot("top").await;

    // The pager: older, then newer again, the same first page.
    let newest = format!("{}: Invoice 27", keys[26]);
    assert!(b.text().await.contains(&newest));
    b.click_link("Earlier activity →").await;
    let older = b.text().await;
    assert!(older.contains(&format!("{}: Invoice 1 ", keys[0])) && !older.contains(&newest), "{older}");
    b.shot("older").await;
    b.click_link("← More recent activity").await;
    let again = b.text().await;
    assert!(again.contains(&newest) && again.contains("Earlier activity →") && !again.contains("← More"), "{again}");
    b.close().await;
}
