use super::engine::Commit;
use super::find::{Scope, Sort};
use super::query::parse;
use super::schema::RequestText;
use super::{IndexFiles, MemoryIndexFiles, SearchIndex};
use std::sync::Arc;

fn request(key: &str, public: &[&str], internal: &[&str]) -> RequestText {
    RequestText {
        key: key.into(),
        project: "HD".into(),
        statuses: vec!["open".into()],
        priority: "normal".into(),
        requester_email: "ann@acme.test".into(),
        parties: vec!["ann".into()],
        created_at: 1_767_225_600,
        updated_at: 1_767_225_600,
        public: public.iter().map(|s| s.to_string()).collect(),
        internal: internal.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

fn index() -> (SearchIndex, tempdir::Dir) {
    let dir = tempdir::Dir::new();
    (SearchIndex::new(Arc::new(MemoryIndexFiles::default()), dir.0.clone()), dir)
}

mod tempdir {
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Dir {
            let path = std::env::temp_dir().join(format!("helpdesk-search-test-{}", ulid::Ulid::new()));
            Dir(path)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

async fn keys(index: &SearchIndex, commit: &Commit, scope: &Scope, q: &str) -> Vec<String> {
    let snapshot = index.snapshot(commit).await.unwrap();
    let found = snapshot.find(scope, &parse(q).unwrap(), Sort::Relevance, 0, 50).unwrap();
    let mut keys: Vec<String> = found.hits.into_iter().map(|h| h.key).collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn words_stems_phrases_prefixes_and_cjk_are_found() {
    let (index, _dir) = index();
    let changes = vec![
        (
            "HD-1".to_string(),
            Some(request("HD-1", &["The printer is jammed", "Paper jam again"], &["vendor invoice 4471"])),
        ),
        ("HD-2".to_string(), Some(request("HD-2", &["打印机坏了", "Invoice question"], &[]))),
    ];
    let commit = index.write(&Commit::default(), changes, 0).await.unwrap().commit;
    assert_eq!(commit.version, 1);
    let agent = Scope::Agent { project: "HD".into(), me: "bob".into() };
    let customer = Scope::Customer { me: "ann".into(), organizations: vec![] };
    assert_eq!(keys(&index, &commit, &agent, "printers").await, ["HD-1"]);
    assert_eq!(keys(&index, &commit, &agent, "\"paper jam\"").await, ["HD-1"]);
    assert!(keys(&index, &commit, &agent, "\"jam paper\"").await.is_empty());
    assert_eq!(keys(&index, &commit, &agent, "print*").await, ["HD-1"]);
    assert_eq!(keys(&index, &commit, &agent, "打印机").await, ["HD-2"]);
    assert_eq!(keys(&index, &commit, &agent, "invoice").await, ["HD-1", "HD-2"]);
    // The internal note's words: the agent finds them, the customer never.
    assert_eq!(keys(&index, &commit, &agent, "4471").await, ["HD-1"]);
    assert!(keys(&index, &commit, &customer, "4471").await.is_empty());
    assert_eq!(keys(&index, &commit, &customer, "invoice").await, ["HD-2"]);

    // A second commit replaces HD-1's document and removes HD-2.
    let next = index
        .write(&commit, vec![("HD-1".into(), Some(request("HD-1", &["All fixed"], &[]))), ("HD-2".into(), None)], 0)
        .await
        .unwrap()
        .commit;
    assert_eq!(next.version, 2);
    assert!(keys(&index, &next, &agent, "printer").await.is_empty());
    assert_eq!(keys(&index, &next, &agent, "fixed").await, ["HD-1"]);
    // The earlier commit still reads as it was (a cursor's snapshot).
    assert_eq!(keys(&index, &commit, &agent, "printer").await, ["HD-1"]);
}

#[tokio::test]
async fn snippets_mark_the_words_found_in_text_the_reader_may_see() {
    let (index, _dir) = index();
    let commit = index
        .write(
            &Commit::default(),
            vec![("HD-1".into(), Some(request("HD-1", &["A <b>printer</b> jam"], &["printer secret"])))],
            0,
        )
        .await
        .unwrap()
        .commit;
    let snapshot = index.snapshot(&commit).await.unwrap();
    let customer = Scope::Customer { me: "ann".into(), organizations: vec![] };
    let found = snapshot.find(&customer, &parse("printer").unwrap(), Sort::Updated, 0, 10).unwrap();
    assert_eq!(found.total, 1);
    assert_eq!(found.hits[0].snippet, "A &lt;b&gt;<mark>printer</mark>&lt;/b&gt; jam");
}

#[tokio::test]
async fn the_empty_index_finds_nothing() {
    let (index, _dir) = index();
    let snapshot = index.snapshot(&Commit::default()).await.unwrap();
    let agent = Scope::Agent { project: "HD".into(), me: "bob".into() };
    for sort in [Sort::Relevance, Sort::Updated] {
        let found = snapshot.find(&agent, &parse("toaster").unwrap(), sort, 0, 10).unwrap();
        assert_eq!((found.total, found.hits.len()), (0, 0));
    }
}

#[tokio::test]
async fn each_commit_is_one_pack_that_a_cold_searcher_opens_from_its_id() {
    let files = Arc::new(MemoryIndexFiles::default());
    let (dir, cold_dir) = (tempdir::Dir::new(), tempdir::Dir::new());
    let writer = SearchIndex::new(files.clone(), dir.0.clone());
    let first = writer
        .write(&Commit::default(), vec![("HD-1".into(), Some(request("HD-1", &["printer"], &[])))], 0)
        .await
        .unwrap()
        .commit;
    let second =
        writer.write(&first, vec![("HD-2".into(), Some(request("HD-2", &["scanner"], &[])))], 0).await.unwrap().commit;
    let mut objects: Vec<String> = files.list().await.unwrap().into_iter().map(|(name, _)| name).collect();
    objects.sort();
    assert_eq!(objects, [super::pack_name(&first.id), super::pack_name(&second.id)]);
    assert_eq!(second.packs.iter().map(|p| p.id.clone()).collect::<Vec<_>>(), [first.id.clone(), second.id.clone()]);

    let cold = SearchIndex::new(files.clone(), cold_dir.0.clone());
    let described = cold.describe(&second.id).await.unwrap();
    assert_eq!(described, second);
    let agent = Scope::Agent { project: "HD".into(), me: "bob".into() };
    assert_eq!(keys(&cold, &described, &agent, "printer").await, ["HD-1"]);
    assert_eq!(keys(&cold, &described, &agent, "scanner").await, ["HD-2"]);
    assert!(matches!(cold.describe("01GONE").await, Err(super::engine::EngineError::Missing(_))));
}

#[test]
fn a_pack_reads_back_what_was_packed_and_a_damaged_one_is_refused() {
    use super::engine::{decode_pack, encode_pack};
    let commit = Commit {
        id: "01A".into(),
        version: 1,
        meta: "{}".into(),
        files: vec!["a".into(), "b".into()],
        ..Default::default()
    };
    let packed = encode_pack(&commit, &[("a".into(), b"alpha".to_vec()), ("b".into(), vec![])]);
    let (header, files) = decode_pack(&packed).unwrap();
    assert_eq!(header.commit, commit);
    assert_eq!(files, [("a".to_string(), &b"alpha"[..]), ("b".to_string(), &b""[..])]);
    assert!(decode_pack(&packed[..packed.len() - 1]).is_none());
    assert!(decode_pack(b"short").is_none());
    assert!(decode_pack(&u64::MAX.to_le_bytes()).is_none());
}

#[tokio::test]
async fn a_pack_no_commit_uses_is_listed_as_dropped_then_expires_after_the_grace_period() {
    let (index, _dir) = index();
    let one = |text: &str| vec![("HD-1".to_string(), Some(request("HD-1", &[text], &[])))];
    let first = index.write(&Commit::default(), one("printer"), 0).await.unwrap().commit;
    // The only document of the first pack's segment is replaced: nothing of that pack is used.
    let second = index.write(&first, one("scanner"), 100).await.unwrap();
    assert!(second.expired.is_empty());
    assert_eq!(second.commit.dropped, [super::engine::Dropped { pack: first.id.clone(), at: 100 }]);
    assert!(!second.commit.packs.iter().any(|p| p.id == first.id));
    let later = 100 + super::GRACE_SECONDS;
    let third = index.write(&second.commit, one("toner"), later).await.unwrap();
    assert_eq!(third.expired, [super::pack_name(&first.id)]);
    assert!(third.commit.dropped.iter().all(|d| d.pack != first.id));
}

#[tokio::test]
async fn a_writer_that_lost_the_race_reads_the_winners_files_not_its_own_of_the_same_name() {
    let files = Arc::new(MemoryIndexFiles::default());
    let (dir_a, dir_b, dir_c) = (tempdir::Dir::new(), tempdir::Dir::new(), tempdir::Dir::new());
    let (a, b) = (SearchIndex::new(files.clone(), dir_a.0.clone()), SearchIndex::new(files.clone(), dir_b.0.clone()));
    let doc = |key: &str, text: &str| (key.to_string(), Some(request(key, &[text], &[])));
    let base = a.write(&Commit::default(), vec![doc("HD-1", "alpha"), doc("HD-2", "beta")], 0).await.unwrap().commit;
    // Both start from the same commit, each replacing one document of its one segment.
    let won = a.write(&base, vec![doc("HD-1", "gamma")], 0).await.unwrap();
    let lost = b.write(&base, vec![doc("HD-2", "delta")], 0).await.unwrap();
    let own = |w: &super::Written| w.commit.packs.iter().find(|p| p.id == w.commit.id).unwrap().files.clone();
    assert!(own(&won).iter().any(|f| own(&lost).contains(f)), "the same delete file name from both writers");
    b.discard(&lost).await;
    let retried = b.write(&won.commit, vec![doc("HD-2", "delta")], 0).await.unwrap().commit;
    let reader = SearchIndex::new(files, dir_c.0.clone());
    let snapshot = reader.snapshot(&reader.describe(&retried.id).await.unwrap()).await.unwrap();
    let agent = Scope::Agent { project: "HD".into(), me: "bob".into() };
    let all = snapshot.find(&agent, &parse("").unwrap(), Sort::Relevance, 0, 10).unwrap();
    assert_eq!(all.total, 2, "{:?}", all.hits);
    for (word, key) in [("gamma", "HD-1"), ("delta", "HD-2")] {
        assert_eq!(keys(&reader, &retried, &agent, word).await, [key]);
    }
    for gone in ["alpha", "beta"] {
        assert!(keys(&reader, &retried, &agent, gone).await.is_empty(), "{gone}");
    }
}
