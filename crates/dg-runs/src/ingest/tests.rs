use super::*;
use tokio::io::AsyncWriteExt;

fn seqs_and_messages(items: &[Incoming]) -> Vec<(i64, String)> {
    items
        .iter()
        .filter_map(|item| match item {
            Incoming::Event(SequencedEvent { seq, event, .. }) => Some((
                *seq,
                match &event.kind {
                    EventKind::EngineEvent { message } => message.clone(),
                    other => other.event_type().to_owned(),
                },
            )),
            _ => None,
        })
        .collect()
}

fn feed(lines: &[&[u8]]) -> (Vec<Incoming>, Sequencer) {
    let mut sequencer = Sequencer::default();
    let mut out = Vec::new();
    for line in lines {
        out.extend(sequencer.accept(Read::Line, line));
    }
    (out, sequencer)
}

const STDOUT: &str = r#""event":{"timestamp":1.5,"step_key":"a","type":"STDOUT","text":"x"}}"#;

fn event(seq: i64) -> Vec<u8> {
    format!(r#"{{"t":"event","seq":{seq},{STDOUT}"#).into_bytes()
}

#[test]
fn an_unreadable_event_is_replaced_under_its_own_number() {
    let nan = br#"{"t":"event","seq":2,"event":{"timestamp":2.5,"type":"ASSET_MATERIALIZATION","asset_key":["a"],"metadata":{"x":NaN}}}"#;
    let unknown =
        br#"{"t":"event","seq":3,"event":{"timestamp":3.5,"step_key":"s","type":"NO_SUCH_TYPE"}}"#;
    let (out, _) = feed(&[&event(1), nan, unknown, &event(4)]);
    let got = seqs_and_messages(&out);
    assert_eq!(
        got.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert!(
        got[1]
            .1
            .starts_with("dg could not read event 2 of the run worker"),
        "{}",
        got[1].1
    );
    assert!(got[1].1.contains("NaN"), "shows the line: {}", got[1].1);
    assert!(
        got[2].1.contains("event 3 (`NO_SUCH_TYPE`)"),
        "{}",
        got[2].1
    );
    let Incoming::Event(SequencedEvent { event, .. }) = &out[2] else {
        panic!()
    };
    assert_eq!(event.timestamp, Timestamp::from_secs_f64(3.5));
    assert_eq!(event.step_key.as_deref(), Some("s"));
}

#[test]
fn a_line_without_a_number_fills_the_gap_it_leaves() {
    let (out, sequencer) = feed(&[&event(1), b"\xff\xfe garbage", &event(3)]);
    let got = seqs_and_messages(&out);
    assert_eq!(got.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(got[1].1.contains("not UTF-8"), "{}", got[1].1);
    assert!(sequencer.pending.is_none());
    // A skipped number is filled too, and a garbled line at the end is reported once.
    let (out, mut sequencer) = feed(&[&event(1), &event(3), b"{oops"]);
    let got = seqs_and_messages(&out);
    assert_eq!(got.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(got[1].1.contains("skipped it"), "{}", got[1].1);
    assert!(sequencer.pending.take().unwrap().contains("{oops"));
}

#[test]
fn other_messages_pass_and_absurd_jumps_are_not_filled() {
    let (out, _) = feed(&[
        br#"{"t":"hello","pid":3}"#,
        b"",
        &event(1),
        &event(1_000_000),
    ]);
    assert!(matches!(out[0], Incoming::Hello { v: 0, pid: 3 }));
    assert_eq!(
        seqs_and_messages(&out)
            .iter()
            .map(|(s, _)| *s)
            .collect::<Vec<_>>(),
        [1, 1_000_000]
    );
}

#[tokio::test]
async fn long_lines_are_skipped_not_held() {
    let long = format!(
        r#"{{"t":"event","seq":7,"event":{{"type":"STDOUT","text":"{}"}}}}"#,
        "y".repeat(100_000)
    );
    let input = format!("{long}\nshort\nlast");
    let mut reader = BufReader::with_capacity(1000, input.as_bytes());
    let mut line = Vec::new();
    let read = read_line(&mut reader, &mut line, 50_000).await.unwrap();
    assert!(
        matches!(read, Some(Read::TooLong(n)) if n > 50_000),
        "{read:?}"
    );
    assert!(line.len() <= HEAD_BYTES);
    assert_eq!(Peek::of(&line).seq, Some(7));
    let mut sequencer = Sequencer {
        last: 6,
        pending: None,
    };
    let got = seqs_and_messages(&sequencer.accept(read.unwrap(), &line));
    assert_eq!(got[0].0, 7);
    assert!(got[0].1.contains("longer than the 64 MiB"), "{}", got[0].1);
    assert_eq!(
        read_line(&mut reader, &mut line, 50_000).await.unwrap(),
        Some(Read::Line)
    );
    assert_eq!(line, b"short");
    assert_eq!(
        read_line(&mut reader, &mut line, 50_000).await.unwrap(),
        Some(Read::Line)
    );
    assert_eq!(line, b"last");
    assert_eq!(
        read_line(&mut reader, &mut line, 50_000).await.unwrap(),
        None
    );
}

#[test]
fn dagsters_text_goes_with_the_event() {
    let line = br#"{"t":"event","seq":1,"event":{"timestamp":1.0,"step_key":"s","type":"ENGINE_EVENT","message":"STEP_OUTPUT: x"},"dagster":"{\"__class__\": \"EventLogEntry\"}"}"#;
    let (out, _) = feed(&[line, &event(2)]);
    let texts: Vec<Option<&str>> = out
        .iter()
        .map(|item| match item {
            Incoming::Event(e) => e.dagster_json.as_deref(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(texts, [Some(r#"{"__class__": "EventLogEntry"}"#), None]);
}

async fn connect(socket: &RunSocket) -> tokio::net::UnixStream {
    tokio::net::UnixStream::connect(socket.path())
        .await
        .unwrap()
}

async fn connected(rx: &mut mpsc::Receiver<Incoming>) -> Acks {
    match rx.recv().await {
        Some(Incoming::Connected(acks)) => acks,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn acknowledgements_go_back_on_the_socket_newest_first() {
    let mut socket = RunSocket::bind("acks-back").unwrap();
    let mut rx = socket.start_reader();
    let (read, _write) = connect(&socket).await.into_split();
    let acks = connected(&mut rx).await;
    acks.stored(3);
    acks.stored(2); // older: never sent
    acks.stored(5);
    let mut lines = BufReader::new(read).lines();
    let mut got = Vec::new();
    while got.last() != Some(&5) {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("an acknowledgement within 10 s")
            .unwrap()
            .expect("a line");
        let msg: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(msg["t"], "stored", "{line}");
        got.push(msg["through"].as_i64().unwrap());
    }
    assert!(got.windows(2).all(|w| w[0] < w[1]), "{got:?}");
    assert!(!got.contains(&2), "{got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_never_reads_never_slows_ingestion() {
    const EVENTS: i64 = 60_000;
    let mut socket = RunSocket::bind("acks-unread").unwrap();
    let mut rx = socket.start_reader();
    // The worker writes and never reads: the acknowledgements (about 2 MB of them, more than
    // a socket buffers) stay unread.
    let (read, mut write) = connect(&socket).await.into_split();
    let writer = tokio::spawn(async move {
        for seq in 1..=EVENTS {
            let mut line = event(seq);
            line.push(b'\n');
            write.write_all(&line).await.unwrap();
        }
        write
    });
    let acks = connected(&mut rx).await;
    let mut last = 0;
    let all = async {
        while let Some(item) = rx.recv().await {
            if let Incoming::Event(e) = item {
                assert_eq!(e.seq, last + 1);
                last = e.seq;
                acks.stored(e.seq);
                // Let the acknowledgement task write each one, until the socket is full.
                tokio::task::yield_now().await;
                if last == EVENTS {
                    break;
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), all)
        .await
        .expect("every event arrives although no acknowledgement is read");
    assert_eq!(last, EVENTS);
    drop(writer.await.unwrap());
    // Once the worker reads, it gets the latest number; what could not be written was dropped.
    let mut lines = BufReader::new(read).lines();
    let mut count = 0;
    loop {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("the latest acknowledgement arrives")
            .unwrap()
            .unwrap();
        count += 1;
        let msg: serde_json::Value = serde_json::from_str(&line).unwrap();
        if msg["through"] == EVENTS {
            break;
        }
    }
    assert!(count < EVENTS, "acknowledgements were dropped, not queued");
}
