//! Webhooks end to end: real receivers (scripts/webhook-receiver.py, which
//! verifies every request with the Standard Webhooks reference library),
//! the delivery engine run as the job runs it, signing, rotation, retries,
//! dead deliveries, disabling, redelivery, SSRF refusals, bad input and
//! who may do what.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{JsonExt, TestApp, test_settings};

/// A receiver process; killed when dropped.
struct Receiver {
    child: Child,
    port: u16,
}

impl Receiver {
    fn start(secrets: &[&str], mode: &str) -> Self {
        let python =
            std::env::var("WEBHOOK_RECEIVER_PYTHON").unwrap_or_else(|_| ".venv/bin/python".into());
        let mut cmd = Command::new(python);
        cmd.arg("scripts/webhook-receiver.py")
            .arg("--mode")
            .arg(mode);
        for s in secrets {
            cmd.arg("--secret").arg(s);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the receiver starts (scripts/test installs its Python library)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().expect("the receiver prints its port");
        Self { child, port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    async fn received(&self) -> Vec<Value> {
        let mut res = awc::Client::new()
            .get(format!("http://127.0.0.1:{}/received", self.port))
            .send()
            .await
            .unwrap();
        serde_json::from_slice::<Vec<Value>>(&res.body().await.unwrap()).unwrap()
    }

    async fn set(&self, mode: &str, secrets: &[&str]) {
        awc::Client::new()
            .post(format!("http://127.0.0.1:{}/mode", self.port))
            .send_json(&json!({"mode": mode, "secrets": secrets}))
            .await
            .unwrap();
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the delivery job once, as `serve`'s job loop does.
async fn deliver(app: &TestApp) -> usize {
    canasta::jobs::deliver_webhooks(&app.pool, &test_settings(String::new()).webhooks).await
}

async fn register(app: &TestApp, token: &str, body: Value) -> crate::helpers::Resp {
    app.post("/api/v1/webhook-endpoints", Some(token), body)
        .await
}

#[actix_web::test]
async fn placed_orders_reach_each_sellers_endpoint_and_the_marketplaces_signed_and_verified() {
    let app = TestApp::spawn().await;
    let (user, id, expected, a, b) = crate::checkout::ready_checkout(&app).await;
    let market = Receiver::start(&[], "ok");
    let for_a = Receiver::start(&[], "ok");
    let for_b = Receiver::start(&[], "ok");
    let types = json!(["order.placed", "order.status_changed"]);
    let m = register(
        &app,
        &app.admin(),
        json!({"url": market.url(), "event_types": types, "description": "ERP"}),
    )
    .await;
    m.assert_status(201);
    let m_secret = m.body["secret"].string();
    assert!(m_secret.starts_with("whsec_"), "{}", m.text);
    let ea = register(
        &app,
        &app.seller(a.seller),
        json!({"url": for_a.url(), "event_types": types}),
    )
    .await;
    ea.assert_status(201);
    assert_eq!(ea.body["seller_id"], a.seller.to_string());
    let eb = register(
        &app,
        &app.seller(b.seller),
        json!({"url": for_b.url(), "event_types": ["order.placed"]}),
    )
    .await;
    eb.assert_status(201);
    for (r, secret) in [
        (&market, &m_secret),
        (&for_a, &ea.body["secret"].string()),
        (&for_b, &eb.body["secret"].string()),
    ] {
        r.set("ok", &[secret.as_str()]).await;
    }
    crate::checkout::place(&app.address, &user, &id, Some("k"), &expected)
        .await
        .assert_status(201);
    assert!(deliver(&app).await >= 4);

    let got = market.received().await;
    assert_eq!(got.len(), 2, "one order.placed per seller: {got:?}");
    let got_a = for_a.received().await;
    let got_b = for_b.received().await;
    assert_eq!(
        (got_a.len(), got_b.len()),
        (1, 1),
        "each seller only its own order"
    );
    for (r, secret) in [(&got, &m_secret), (&got_a, &ea.body["secret"].string())] {
        for req in r.iter() {
            assert_eq!(req["verified"][secret.as_str()], true, "{req}");
            assert_eq!(req["method"], "POST");
            assert_eq!(req["content_type"], "application/json");
            assert!(req["webhook_id"].str().starts_with("msg_"));
            let body: Value = serde_json::from_str(req["body"].str()).unwrap();
            assert_eq!(body["type"], "order.placed");
            assert!(body["timestamp"].is_string());
            assert!(body["data"]["number"].str().starts_with("CN-"), "{body}");
        }
    }
    let body_a: Value = serde_json::from_str(got_a[0]["body"].str()).unwrap();
    assert_eq!(body_a["data"]["seller_id"], a.seller.to_string());
    // The log shows the delivery sent with the receiver's answer.
    let log = app
        .get(
            &format!("/api/v1/webhook-endpoints/{}/deliveries", ea.id()),
            Some(&app.seller(a.seller)),
        )
        .await;
    log.assert_status(200);
    assert_eq!(log.body["items"][0]["status"], "sent");
    assert_eq!(log.body["items"][0]["response_status"], 200);
    assert_eq!(log.body["items"][0]["attempts"], 1);
    // Nothing is sent twice: the events are fanned out once.
    assert_eq!(deliver(&app).await, 0);
    assert_eq!(market.received().await.len(), 2);
}

#[actix_web::test]
async fn a_failing_receiver_is_retried_on_the_schedule_until_the_delivery_dies_then_redelivered() {
    let app = TestApp::spawn().await;
    let r = Receiver::start(&[], "fail");
    let e = register(
        &app,
        &app.admin(),
        json!({"url": r.url(), "event_types": ["order.placed"]}),
    )
    .await;
    let endpoint = e.id();
    r.set("fail", &[e.body["secret"].str()]).await;
    let ping = app
        .post(
            &format!("/api/v1/webhook-endpoints/{endpoint}/test"),
            Some(&app.admin()),
            json!({}),
        )
        .await;
    ping.assert_status(202);
    assert_eq!(ping.body["status"], "pending");
    // Test settings: retries 200 ms apart, three of them, then dead.
    for attempt in 1..=4 {
        tokio_sleep(300).await;
        deliver(&app).await;
        let log = app
            .get(
                &format!("/api/v1/webhook-endpoints/{endpoint}/deliveries"),
                Some(&app.admin()),
            )
            .await;
        let d = &log.body["items"][0];
        assert_eq!(d["attempts"], attempt, "{d}");
        assert_eq!(d["response_status"], 500);
        assert_eq!(d["last_error"], "the receiver answered 500");
        assert_eq!(
            d["status"],
            if attempt < 4 { "failed" } else { "dead" },
            "{d}"
        );
        if attempt == 1 {
            // The queue shows on /metrics: this database's failed delivery,
            // and this process's attempts.
            let metrics = app.get("/metrics", None).await.text;
            let failed = "canasta_deliveries{channel=\"webhook\",status=\"failed\"} 1";
            assert!(metrics.contains(failed), "{metrics}");
            assert!(metrics.contains("canasta_outbox_pending 0"), "{metrics}");
            assert!(metrics.contains(
                "canasta_delivery_attempts_total{channel=\"webhook\",outcome=\"failed\"}"
            ));
            assert!(metrics.contains("canasta_deliveries_oldest_due_seconds"));
        }
    }
    let got = r.received().await;
    assert_eq!(got.len(), 4);
    assert!(
        got.iter().all(|g| g["webhook_id"] == got[0]["webhook_id"]),
        "one message id across retries"
    );
    assert!(
        got.iter()
            .all(|g| g["verified"][e.body["secret"].str()] == true)
    );
    // A test ping never disables the endpoint; a redelivery sends it again.
    let endpoint_now = app
        .get(
            &format!("/api/v1/webhook-endpoints/{endpoint}"),
            Some(&app.admin()),
        )
        .await;
    assert_eq!(endpoint_now.body["active"], true);
    r.set("ok", &[e.body["secret"].str()]).await;
    let delivery = app
        .get(
            &format!("/api/v1/webhook-endpoints/{endpoint}/deliveries"),
            Some(&app.admin()),
        )
        .await
        .body["items"][0]["id"]
        .string();
    app.post(
        &format!("/api/v1/webhook-endpoints/{endpoint}/deliveries/{delivery}/redeliver"),
        Some(&app.admin()),
        json!({}),
    )
    .await
    .assert_status(202);
    deliver(&app).await;
    let log = app
        .get(
            &format!("/api/v1/webhook-endpoints/{endpoint}/deliveries"),
            Some(&app.admin()),
        )
        .await;
    assert_eq!(log.body["items"][0]["status"], "sent");
    assert_eq!(r.received().await.len(), 5);
}

async fn tokio_sleep(ms: u64) {
    actix_web::rt::time::sleep(Duration::from_millis(ms)).await;
}

#[actix_web::test]
async fn a_hanging_receiver_times_out_and_the_delivery_is_retried() {
    let app = TestApp::spawn().await;
    let r = Receiver::start(&[], "hang");
    let e = register(
        &app,
        &app.admin(),
        json!({"url": r.url(), "event_types": ["order.placed"]}),
    )
    .await;
    let endpoint = e.id();
    app.post(
        &format!("/api/v1/webhook-endpoints/{endpoint}/test"),
        Some(&app.admin()),
        json!({}),
    )
    .await
    .assert_status(202);
    let started = std::time::Instant::now();
    deliver(&app).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the send is bounded by the timeout"
    );
    let log = app
        .get(
            &format!("/api/v1/webhook-endpoints/{endpoint}/deliveries"),
            Some(&app.admin()),
        )
        .await;
    assert_eq!(log.body["items"][0]["status"], "failed");
    assert_eq!(log.body["items"][0]["last_error"], "timed out");
}

#[actix_web::test]
async fn a_410_gone_disables_the_endpoint_and_tells_its_owner() {
    let app = TestApp::spawn().await;
    let (user, id, expected, a, _) = crate::checkout::ready_checkout(&app).await;
    let r = Receiver::start(&[], "gone");
    let token = app.seller(a.seller);
    let e = register(
        &app,
        &token,
        json!({"url": r.url(), "event_types": ["order.placed"]}),
    )
    .await;
    crate::checkout::place(&app.address, &user, &id, Some("k"), &expected)
        .await
        .assert_status(201);
    deliver(&app).await;
    let now = app
        .get(
            &format!("/api/v1/webhook-endpoints/{}", e.id()),
            Some(&token),
        )
        .await;
    assert_eq!(now.body["active"], false);
    assert_eq!(
        now.body["disabled_reason"],
        "the receiver answered 410 Gone"
    );
    assert_eq!(
        app.count("outbox WHERE topic = 'webhook.endpoint_disabled'"),
        1
    );
    let log = app
        .get(
            &format!("/api/v1/webhook-endpoints/{}/deliveries", e.id()),
            Some(&token),
        )
        .await;
    assert_eq!(log.body["items"][0]["status"], "dead");
    // Enabled again by its owner, it receives again.
    app.patch(
        &format!("/api/v1/webhook-endpoints/{}", e.id()),
        Some(&token),
        json!({"active": true}),
    )
    .await
    .assert_status(200);
    r.set("ok", &[]).await;
    app.post(
        &format!("/api/v1/webhook-endpoints/{}/test", e.id()),
        Some(&token),
        json!({}),
    )
    .await
    .assert_status(202);
    deliver(&app).await;
    assert_eq!(r.received().await.last().unwrap()["mode"], "ok");
}

#[actix_web::test]
async fn a_rotated_secret_signs_beside_the_old_one_during_the_overlap_only() {
    let app = TestApp::spawn().await;
    let r = Receiver::start(&[], "ok");
    let e = register(
        &app,
        &app.admin(),
        json!({"url": r.url(), "event_types": ["inventory.low_stock"]}),
    )
    .await;
    let old = e.body["secret"].string();
    let path = format!("/api/v1/webhook-endpoints/{}", e.id());
    let rotated = app
        .post(
            &format!("{path}/rotate-secret"),
            Some(&app.admin()),
            json!({"overlap_hours": 24}),
        )
        .await;
    rotated.assert_status(200);
    let new = rotated.body["secret"].string();
    assert_ne!(new, old);
    assert!(rotated.body["previous_secret_until"].is_string());
    r.set("ok", &[old.as_str(), new.as_str()]).await;
    app.post(&format!("{path}/test"), Some(&app.admin()), json!({}))
        .await
        .assert_status(202);
    deliver(&app).await;
    let got = r.received().await;
    assert_eq!(got[0]["verified"][old.as_str()], true, "{}", got[0]);
    assert_eq!(got[0]["verified"][new.as_str()], true, "{}", got[0]);
    assert_eq!(got[0]["webhook_signature"].str().split(' ').count(), 2);
    // Without an overlap the old secret stops at once.
    let again = app
        .post(
            &format!("{path}/rotate-secret"),
            Some(&app.admin()),
            json!({"overlap_hours": 0}),
        )
        .await;
    let newest = again.body["secret"].string();
    r.set("ok", &[new.as_str(), newest.as_str()]).await;
    app.post(&format!("{path}/test"), Some(&app.admin()), json!({}))
        .await
        .assert_status(202);
    deliver(&app).await;
    let got = r.received().await;
    assert_eq!(got[1]["verified"][newest.as_str()], true);
    assert_ne!(got[1]["verified"][new.as_str()], true);
    // The secret is never shown again.
    let read = app.get(&path, Some(&app.admin())).await;
    assert!(read.body.get("secret").is_none());
}

#[actix_web::test]
async fn bad_input_and_unsafe_urls_are_refused_and_nothing_is_written() {
    let strict = TestApp::spawn_with(|s| {
        s.webhooks.allow_http = false;
        s.webhooks.allow_private = false;
    })
    .await;
    let admin = strict.admin();
    for (url, why) in [
        ("http://hooks.example.com/x", "must use https"),
        ("https://127.0.0.1/hook", "not a public address"),
        ("https://localhost:8443/hook", "not a public address"),
        ("https://[::1]/hook", "not a public address"),
        ("https://10.0.0.7/hook", "not a public address"),
        ("https://169.254.169.254/latest", "not a public address"),
        ("https://user:pw@hooks.example.com/x", "credentials"),
        ("ftp://hooks.example.com/x", "https"),
    ] {
        let r = register(
            &strict,
            &admin,
            json!({"url": url, "event_types": ["order.placed"]}),
        )
        .await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "url", "{url}: {}", r.text);
        assert!(r.text.contains(why), "{url}: {}", r.text);
    }
    let r = register(
        &strict,
        &admin,
        json!({"url": "https://93.184.215.14/x", "event_types": ["order.placed", "order.eaten"]}),
    )
    .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "event_types[1]");
    let r = register(
        &strict,
        &admin,
        json!({"url": "https://93.184.215.14/x", "event_types": []}),
    )
    .await;
    r.assert_problem(422, "validation_failed");
    let r = register(
        &strict,
        &admin,
        json!({"url": "https://hooks.example.com/x"}),
    )
    .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(strict.count("webhook_endpoints"), 0);
    assert_eq!(strict.count("deliveries"), 0);
    // A rotation's overlap is bounded.
    let app = TestApp::spawn().await;
    let r = Receiver::start(&[], "ok");
    let e = register(
        &app,
        &app.admin(),
        json!({"url": r.url(), "event_types": ["order.placed"]}),
    )
    .await;
    app.post(
        &format!("/api/v1/webhook-endpoints/{}/rotate-secret", e.id()),
        Some(&app.admin()),
        json!({"overlap_hours": 1000}),
    )
    .await
    .assert_problem(422, "validation_failed");
}

#[actix_web::test]
async fn sellers_manage_only_their_own_endpoints_and_customers_none() {
    let app = TestApp::spawn().await;
    let r = Receiver::start(&[], "ok");
    let (s1, s2) = (app.create_seller().await, app.create_seller().await);
    let (t1, t2) = (app.seller(s1), app.seller(s2));
    let mine = register(
        &app,
        &t1,
        json!({"url": r.url(), "event_types": ["order.placed"]}),
    )
    .await;
    mine.assert_status(201);
    let path = format!("/api/v1/webhook-endpoints/{}", mine.id());
    // Another seller: not found, whatever it tries; nor may it register for s1.
    app.get(&path, Some(&t2))
        .await
        .assert_problem(404, "not_found");
    app.patch(&path, Some(&t2), json!({"active": false}))
        .await
        .assert_problem(404, "not_found");
    app.delete(&path, Some(&t2))
        .await
        .assert_problem(404, "not_found");
    app.post(&format!("{path}/test"), Some(&t2), json!({}))
        .await
        .assert_problem(404, "not_found");
    register(
        &app,
        &t2,
        json!({"url": r.url(), "event_types": ["order.placed"], "seller_id": s1}),
    )
    .await
    .assert_problem(403, "forbidden");
    let listed = app.get("/api/v1/webhook-endpoints", Some(&t2)).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 0);
    app.get(
        &format!("/api/v1/webhook-endpoints?seller_id={s1}"),
        Some(&t2),
    )
    .await
    .assert_problem(403, "forbidden");
    // Customers have no webhooks; admins see everyone's.
    let customer = app.customer();
    app.get("/api/v1/webhook-endpoints", Some(&customer))
        .await
        .assert_problem(403, "forbidden");
    register(
        &app,
        &customer,
        json!({"url": r.url(), "event_types": ["order.placed"]}),
    )
    .await
    .assert_problem(403, "forbidden");
    app.get(&path, Some(&customer))
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(
        app.get("/api/v1/webhook-endpoints", Some(&app.admin()))
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    app.delete(&path, Some(&t1)).await.assert_status(204);
    assert_eq!(app.count("webhook_endpoints"), 0);
}

#[actix_web::test]
async fn racing_dispatchers_fan_each_event_out_once_and_send_each_delivery_once() {
    let app = TestApp::spawn().await;
    let (user, id, expected, _, _) = crate::checkout::ready_checkout(&app).await;
    let r = Receiver::start(&[], "ok");
    register(
        &app,
        &app.admin(),
        json!({"url": r.url(), "event_types": ["order.placed", "order.status_changed"]}),
    )
    .await
    .assert_status(201);
    crate::checkout::place(&app.address, &user, &id, Some("k"), &expected)
        .await
        .assert_status(201);
    // A second instance's pool, as a second `worker` process would have.
    let other = canasta::db::pool(&app.db.url(), 4, Duration::from_secs(5));
    let settings = test_settings(String::new()).webhooks;
    let (x, y) = futures::join!(
        canasta::jobs::deliver_webhooks(&app.pool, &settings),
        canasta::jobs::deliver_webhooks(&other, &settings)
    );
    assert_eq!(
        x + y,
        2,
        "two orders placed, each sent by exactly one dispatcher"
    );
    assert_eq!(app.count("deliveries"), 2);
    let got = r.received().await;
    let mut ids: Vec<&str> = got.iter().map(|g| g["webhook_id"].str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!((got.len(), ids.len()), (2, 2), "{got:?}");
}

#[actix_web::test]
async fn a_dispatcher_killed_after_claiming_leaves_its_deliveries_to_the_next_one_once() {
    use canasta::webhooks::service;
    let app = TestApp::spawn().await;
    let (user, id, expected, _, _) = crate::checkout::ready_checkout(&app).await;
    let r = Receiver::start(&[], "ok");
    register(
        &app,
        &app.admin(),
        json!({"url": r.url(), "event_types": ["order.placed"]}),
    )
    .await
    .assert_status(201);
    crate::checkout::place(&app.address, &user, &id, Some("k"), &expected)
        .await
        .assert_status(201);
    // The first dispatcher fans out and claims both deliveries, then dies
    // before sending (its claim is committed, its sends never happen).
    let claimed = {
        let mut conn = app.pool.get().unwrap();
        service::fan_out(&mut conn, 50).unwrap();
        service::claim(&mut conn, 50, chrono::Duration::seconds(1)).unwrap()
    };
    assert_eq!(claimed.len(), 2);
    // While its lease runs, nobody else sends them.
    assert_eq!(deliver(&app).await, 0);
    assert!(r.received().await.is_empty());
    // After the lease the next dispatcher sends each once.
    tokio_sleep(1100).await;
    assert_eq!(deliver(&app).await, 2);
    let got = r.received().await;
    assert_eq!(got.len(), 2);
    assert_ne!(got[0]["webhook_id"], got[1]["webhook_id"]);
    // Had the first one woken up late, its answer would not be recorded.
    let late = canasta::webhooks::sender::Answer {
        status: Some(500),
        ..Default::default()
    };
    let retry = service::RetryPolicy {
        schedule: vec![],
        disable_after: chrono::Duration::hours(1),
    };
    let mut conn = app.pool.get().unwrap();
    assert!(
        service::record(&mut conn, &claimed[0], &late, &retry)
            .unwrap()
            .is_none()
    );
    assert_eq!(
        app.count("deliveries WHERE status = 'sent' AND attempts = 2"),
        2
    );
}
