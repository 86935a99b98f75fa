//! `template.yaml`, the workspace's function crates, the local router and `events/`
//! must agree: same functions, same routes, same table shape, read-only read paths.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::collections::BTreeSet;

use blog_core::routes::{route, Function, ROUTES};
use blog_core::store::dynamo::{BY_DATE, LISTING_ATTRIBUTES};
use blog_e2e::{events, workspace};
use serde_yaml_ng::Value;

fn template() -> Value {
    let text = std::fs::read_to_string(workspace().join("template.yaml")).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

fn resources(t: &Value, kind: &str) -> Vec<(String, Value)> {
    t["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(kind))
        .map(|(k, r)| (k.as_str().unwrap().to_owned(), r.clone()))
        .collect()
}

fn function_name(resource: &Value) -> String {
    let uri = resource["Properties"]["CodeUri"].as_str().unwrap();
    uri.strip_prefix("functions/")
        .unwrap_or_else(|| panic!("CodeUri {uri} is not functions/<name>"))
        .to_owned()
}

#[test]
fn template_functions_are_the_workspace_crates() {
    let t = template();
    let in_template: BTreeSet<String> = resources(&t, "AWS::Serverless::Function")
        .iter()
        .map(|(id, r)| {
            assert_eq!(
                r["Metadata"]["BuildMethod"].as_str(),
                Some("rust-cargolambda"),
                "{id}"
            );
            function_name(r)
        })
        .collect();
    let on_disk: BTreeSet<String> = std::fs::read_dir(workspace().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    // Every route's function, and the drain, which answers no route.
    let in_code: BTreeSet<String> = Function::ALL
        .iter()
        .map(|f| f.name().to_owned())
        .chain(["drain".to_owned()])
        .collect();
    assert_eq!(in_template, on_disk);
    assert_eq!(in_template, in_code);
    for name in &on_disk {
        let manifest =
            std::fs::read_to_string(workspace().join(format!("functions/{name}/Cargo.toml")))
                .unwrap();
        assert!(
            manifest.contains(&format!("name = \"blog-{name}\"")),
            "functions/{name}: package blog-{name}"
        );
    }
    let g = &t["Globals"]["Function"];
    assert_eq!(g["Runtime"].as_str(), Some("provided.al2023"));
    assert_eq!(g["Architectures"][0].as_str(), Some("arm64"));
    assert_eq!(g["Handler"].as_str(), Some("bootstrap"));
    assert_eq!(g["LoggingConfig"]["LogFormat"].as_str(), Some("JSON"));
}

#[test]
fn template_routes_are_the_router_and_events_routes() {
    let t = template();
    let mut in_template = BTreeSet::new();
    for (id, r) in resources(&t, "AWS::Serverless::Function") {
        let name = function_name(&r);
        for (_, event) in r["Properties"]["Events"].as_mapping().unwrap() {
            if name == "drain" {
                continue;
            }
            assert_eq!(event["Type"].as_str(), Some("HttpApi"), "{id}");
            let p = &event["Properties"];
            let key = match (p["Method"].as_str(), p["Path"].as_str()) {
                (Some(m), Some(path)) => format!("{} {path}", m.to_uppercase()),
                (None, None) => "$default".to_owned(),
                other => panic!("{id}: half a route {other:?}"),
            };
            in_template.insert((key, name.clone()));
        }
    }
    let in_code: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(k, f)| ((*k).to_owned(), f.name().to_owned()))
        .collect();
    assert_eq!(in_template, in_code);

    // The local router sends each route's paths to the route's function.
    for (key, function) in ROUTES {
        let Some(pattern) = key.strip_prefix("ANY ") else {
            continue;
        };
        if *function == Function::Publish {
            assert_eq!(*key, "ANY /api/{proxy+}");
            for path in ["/api/posts", "/api/posts/hello", "/api/assets"] {
                assert!(blog_core::publish::api_route(path).is_some(), "{path}");
                assert!(route(path).is_none(), "{path} must not be a page");
            }
            continue;
        }
        let path = pattern
            .replace("{slug+}", "hello/")
            .replace("{tag+}", "rust/")
            .replace("{tag}", "rust");
        let path = if path.ends_with('/') || path.contains('.') {
            path
        } else {
            format!("{path}/")
        };
        let r = route(&path).unwrap_or_else(|| panic!("{key}: {path} is not routed"));
        assert!(
            function.serves(&r),
            "{key}: {path} routes to {r:?}, which {} does not serve",
            function.name()
        );
    }
    // Every event carries a route key the template defines.
    let keys: BTreeSet<String> = in_template.into_iter().map(|(k, _)| k).collect();
    for name in events::names() {
        let v: serde_json::Value = serde_json::from_str(&events::load(&name)).unwrap();
        assert!(keys.contains(v["routeKey"].as_str().unwrap()), "{name}");
    }
}

#[test]
fn the_table_is_the_one_the_store_expects() {
    let t = template();
    let (_, table) = resources(&t, "AWS::DynamoDB::Table").pop().unwrap();
    assert_eq!(table["DeletionPolicy"].as_str(), Some("Retain"));
    assert_eq!(table["UpdateReplacePolicy"].as_str(), Some("Retain"));
    let p = &table["Properties"];
    assert_eq!(p["BillingMode"].as_str(), Some("PAY_PER_REQUEST"));
    assert_eq!(p["DeletionProtectionEnabled"].as_bool(), Some(true));
    assert_eq!(
        p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
        Some(true)
    );
    let keys: Vec<&str> = p["KeySchema"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|k| k["AttributeName"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["pk", "sk"]);
    let gsi = &p["GlobalSecondaryIndexes"][0];
    assert_eq!(gsi["IndexName"].as_str(), Some(BY_DATE));
    let keys: Vec<&str> = gsi["KeySchema"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|k| k["AttributeName"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["gsi1pk", "gsi1sk"]);
    // The drain's stream, and the TTL that expires sent batches' records.
    assert_eq!(
        p["StreamSpecification"]["StreamViewType"].as_str(),
        Some("KEYS_ONLY")
    );
    assert_eq!(
        p["TimeToLiveSpecification"]["AttributeName"].as_str(),
        Some("expires")
    );
    let projected: Vec<&str> = gsi["Projection"]["NonKeyAttributes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(projected, LISTING_ATTRIBUTES);
}

#[test]
fn read_functions_may_only_read() {
    let t = template();
    let allowed = ["dynamodb:GetItem", "dynamodb:Query"];
    for (id, r) in resources(&t, "AWS::Serverless::Function") {
        if [Function::Publish.name(), "drain"].contains(&function_name(&r).as_str()) {
            continue;
        }
        for policy in r["Properties"]["Policies"].as_sequence().unwrap() {
            for statement in policy["Statement"].as_sequence().unwrap() {
                let actions: Vec<&str> = match &statement["Action"] {
                    Value::String(a) => vec![a.as_str()],
                    Value::Sequence(list) => list.iter().map(|a| a.as_str().unwrap()).collect(),
                    other => panic!("{id}: {other:?}"),
                };
                for action in actions {
                    assert!(allowed.contains(&action), "{id} may {action}");
                }
            }
        }
    }
}

#[test]
fn the_publish_function_reaches_its_token_only_and_the_drain_its_distribution() {
    let t = template();
    let f = &t["Resources"]["PublishFunction"]["Properties"];
    assert_eq!(f["CodeUri"].as_str(), Some("functions/publish"));
    let text = std::fs::read_to_string(workspace().join("template.yaml")).unwrap();
    // One name for the token's parameter: the function reads it, the custom
    // resource creates it, the policies admit exactly it.
    let name = "/${AWS::StackName}/publish-token";
    let arn = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/${AWS::StackName}/publish-token";
    assert!(text.contains(&format!("BLOG_TOKEN_PARAMETER: !Sub \"{name}\"")));
    let token = &t["Resources"]["PublishTokenParameter"];
    assert_eq!(token["Type"].as_str(), Some("Custom::PublishToken"));
    assert_eq!(
        token["Type"].as_str(),
        Some(blog_core::rerender::cloudformation::TOKEN_RESOURCE_TYPE)
    );
    assert!(text.contains(&format!("      Name: !Sub \"{name}\"")));
    assert!(text.contains("ServiceToken: !Ref DrainFunction.Alias\n      ServiceTimeout: 300"));
    // No secret that costs by the month.
    assert!(!text.contains("AWS::SecretsManager"));
    let access = &t["Resources"]["PublishAccess"]["Properties"]["PolicyDocument"]["Statement"];
    let statements = access.as_sequence().unwrap();
    assert_eq!(statements.len(), 1);
    assert_eq!(statements[0]["Action"].as_str(), Some("ssm:GetParameter"));
    assert_eq!(
        text.matches(&format!("Resource: !Sub \"{arn}\"")).count(),
        3,
        "the publish function's read and the drain's create/delete (and its denied \
         overwrite) name the one parameter"
    );
    assert!(text.contains("Action: [ssm:PutParameter, ssm:GetParameter, ssm:DeleteParameter]"));
    assert!(text.contains("Effect: Deny\n              Action: ssm:PutParameter"));
    assert!(text.contains("ssm:Overwrite: \"true\""));
    assert!(!format!("{:?}", f["Policies"]).contains("cloudfront"));
    // Uploads as sent (with their GPS blocks) are kept under originals/: the only
    // reader the bucket admits is the distribution, and only for assets/*.
    let bucket_policy =
        &t["Resources"]["AssetsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"];
    let allows: Vec<String> = bucket_policy
        .as_sequence()
        .unwrap()
        .iter()
        .filter(|s| s["Effect"].as_str() == Some("Allow"))
        .map(|s| format!("{:?}", s["Resource"]))
        .collect();
    assert!(!allows.is_empty());
    for resource in &allows {
        assert!(
            resource.contains("/assets/*") && !resource.contains("originals"),
            "{resource}"
        );
    }
    let publish = format!("{:?}", f["Policies"]);
    assert!(
        publish.contains("/originals/*") && publish.contains("s3:DeleteObject"),
        "{publish}"
    );
    // Export and the import of an export read what is served (and nothing more).
    let statements = f["Policies"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|p| p["Statement"].as_sequence().cloned().unwrap_or_default());
    let reads_assets = statements.into_iter().any(|s| {
        format!("{:?}", s["Resource"]).contains("/assets/*")
            && format!("{:?}", s["Action"]).contains("s3:GetObject")
    });
    assert!(reads_assets, "{publish}");
    // Only the drain invalidates, and only this distribution.
    let drain = &t["Resources"]["DrainFunction"]["Properties"];
    let policy = format!("{:?}", drain["Policies"]);
    assert!(
        policy.contains("cloudfront:CreateInvalidation")
            && policy.contains("distribution/${Distribution}"),
        "{policy}"
    );
    // It reads a due post (GetItem) and the newest posts (the index) too.
    for want in ["dynamodb:GetItem", "dynamodb:Query", "/index/byDate"] {
        assert!(policy.contains(want), "{want} in {policy}");
    }
    let filters = format!(
        "{:?}",
        drain["Events"]["Outbox"]["Properties"]["FilterCriteria"]
    );
    assert!(filters.contains(r#"\"OUTBOX\""#), "{filters}");
    // Throttling on the API routes, tighter than pages.
    let api = &t["Resources"]["HttpApi"]["Properties"];
    let publish = &api["RouteSettings"]["ANY /api/{proxy+}"];
    assert!(
        publish["ThrottlingRateLimit"].as_u64().unwrap()
            < api["DefaultRouteSettings"]["ThrottlingRateLimit"]
                .as_u64()
                .unwrap()
    );
}

#[test]
fn assets_get_the_same_policy_locally_and_from_the_cdn() {
    let t = template();
    let config = &t["Resources"]["SecurityHeadersPolicy"]["Properties"]
        ["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"];
    assert_eq!(
        config["ContentSecurityPolicy"]["ContentSecurityPolicy"].as_str(),
        Some(blog_core::http::ASSET_CSP)
    );
}

#[test]
fn storage_calls_give_up_well_before_any_function_times_out() {
    let t = template();
    let default = t["Globals"]["Function"]["Timeout"].as_u64().unwrap();
    for (id, r) in resources(&t, "AWS::Serverless::Function") {
        let timeout = r["Properties"]["Timeout"].as_u64().unwrap_or(default);
        // The SDK's deadline plus a retry-free answer must fit twice over.
        assert!(
            2 * blog_core::aws::OPERATION_TIMEOUT.as_secs() <= timeout,
            "{id}: timeout {timeout} s"
        );
    }
}

#[test]
fn scheduled_posts_get_a_group_a_role_for_the_drain_and_nothing_more() {
    let t = template();
    let r = &t["Resources"];
    assert_eq!(
        r["PostSchedules"]["Type"].as_str(),
        Some("AWS::Scheduler::ScheduleGroup")
    );
    // The role: trusted by Scheduler from this account only, allowed to invoke the
    // drain function and nothing else.
    let role = &r["SchedulerRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(
        role["Principal"]["Service"].as_str(),
        Some("scheduler.amazonaws.com")
    );
    assert!(format!("{:?}", role["Condition"]).contains("aws:SourceAccount"));
    let invoke = &r["SchedulerInvokesDrain"]["Properties"]["PolicyDocument"]["Statement"];
    assert_eq!(invoke.as_sequence().unwrap().len(), 1);
    assert_eq!(invoke[0]["Action"].as_str(), Some("lambda:InvokeFunction"));
    assert!(format!("{:?}", invoke[0]["Resource"]).contains("DrainFunction"));
    // The publish function: schedules in that group only, and the role passed to
    // Scheduler only; it names the drain by the name the drain is given.
    let publish = &r["PublishFunction"]["Properties"];
    let policies = format!("{:?}", publish["Policies"]);
    for want in [
        "scheduler:CreateSchedule",
        "scheduler:UpdateSchedule",
        "scheduler:DeleteSchedule",
        "schedule/${PostSchedules}/*",
        "iam:PassRole",
        "iam:PassedToService",
        "scheduler.amazonaws.com",
    ] {
        assert!(policies.contains(want), "{want} in {policies}");
    }
    let vars = &publish["Environment"]["Variables"];
    let target = format!("{:?}", vars["BLOG_SCHEDULE_TARGET"]);
    let name = format!("{:?}", r["DrainFunction"]["Properties"]["FunctionName"]);
    assert!(
        target.contains(":function:${AWS::StackName}-drain"),
        "{target}"
    );
    assert!(name.contains("${AWS::StackName}-drain"), "{name}");
    assert!(format!("{:?}", vars["BLOG_SCHEDULE_ROLE"]).contains("SchedulerRole"));
    assert!(format!("{:?}", vars["BLOG_SCHEDULE_GROUP"]).contains("PostSchedules"));
}

#[test]
fn a_deploy_brings_the_live_site_up_to_date_by_itself() {
    let t = template();
    let drain = &t["Resources"]["DrainFunction"]["Properties"];
    // A new version per code change, which the custom resource names, so
    // CloudFormation calls the function on every deploy that changes its code.
    assert!(drain["AutoPublishAlias"].as_str().is_some());
    let site = &t["Resources"]["SiteRender"];
    assert_eq!(
        site["Type"].as_str(),
        Some("AWS::CloudFormation::CustomResource")
    );
    let props = format!("{:?}", site["Properties"]);
    for want in [
        "DrainFunction.Alias",
        "DrainFunction.Version",
        "ServiceTimeout",
    ] {
        assert!(props.contains(want), "{want} in {props}");
    }
    // The re-render writes through the publish function's transactional writer,
    // so it needs the writer's actions, and Scan to find stale posts.
    let policy = format!("{:?}", drain["Policies"]);
    let publish = format!(
        "{:?}",
        t["Resources"]["PublishFunction"]["Properties"]["Policies"]
    );
    for action in publish
        .split('"')
        .filter(|s| s.starts_with("dynamodb:"))
        .chain(["dynamodb:Scan"])
    {
        assert!(policy.contains(action), "{action} in {policy}");
    }
    // The publish function's /api/rerender finds stale posts too.
    assert!(publish.contains("dynamodb:Scan"), "{publish}");
    // After every function that renders or writes pages.
    let after = format!("{:?}", site["DependsOn"]);
    for f in [
        "HomeFunction",
        "PostFunction",
        "TagsFunction",
        "FeedFunction",
        "PublishFunction",
    ] {
        assert!(after.contains(f), "{f} in {after}");
    }
    // An unfinished run's record wakes the next at once.
    let filters = format!(
        "{:?}",
        drain["Events"]["Outbox"]["Properties"]["FilterCriteria"]
    );
    assert!(
        filters.contains(r#"\"RENDER\""#) && filters.contains(r#"\"JOB\""#),
        "{filters}"
    );
    // And nobody is told to invalidate by hand.
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    assert!(!readme.contains("create-invalidation"));
}

#[test]
fn the_pipeline_runs_the_test_command_and_deploys_main_with_oidc_through_scripts() {
    let path = workspace().join(".github/workflows/pipeline.yml");
    let w: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let ci = std::fs::read_to_string(workspace().join(".ci/run")).unwrap();
    let runs = |job: &str| -> Vec<String> {
        w["jobs"][job]["steps"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(|s| s["run"].as_str().map(str::to_owned))
            .collect()
    };
    // Pull requests and main run the README's test command, as CI here does.
    assert!(ci.contains("scripts/test.sh"));
    assert_eq!(runs("test"), ["bash scripts/test.sh"]);
    // Deploys only from main, after the tests, with a token from GitHub's OIDC
    // provider, and every step is a script in the repository.
    let deploy = &w["jobs"]["deploy"];
    assert!(deploy["if"].as_str().unwrap().contains("refs/heads/main"));
    assert_eq!(deploy["needs"].as_str(), Some("test"));
    assert_eq!(deploy["permissions"]["id-token"].as_str(), Some("write"));
    let steps = runs("deploy");
    for run in &steps {
        let script = run.split_whitespace().nth(1).unwrap();
        assert!(run.starts_with("bash scripts/"), "{run}");
        assert!(workspace().join(script).is_file(), "{script}");
    }
    let scripts: Vec<&str> = steps
        .iter()
        .filter_map(|r| r.split_whitespace().nth(1))
        .collect();
    assert_eq!(
        scripts,
        [
            "scripts/deploy.sh",
            "scripts/deploy.sh",
            "scripts/publish-changed.sh",
            "scripts/mark-deployed.sh"
        ]
    );
    // Credentials come after the build, from OIDC.
    let uses: Vec<String> = deploy["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|s| s["uses"].as_str().or(s["run"].as_str()).unwrap().to_owned())
        .collect();
    let build = uses
        .iter()
        .position(|u| u == "bash scripts/deploy.sh build")
        .unwrap();
    let creds = uses
        .iter()
        .position(|u| u.starts_with("aws-actions/configure-aws-credentials"))
        .unwrap();
    assert!(build < creds);
    // The role it assumes trusts only this repository's main branch.
    let role = std::fs::read_to_string(workspace().join("pipeline/deploy-role.yaml")).unwrap();
    assert!(role.contains("repo:${GitHubRepository}:ref:refs/heads/main"));
    assert!(role.contains("token.actions.githubusercontent.com:aud: sts.amazonaws.com"));
}
