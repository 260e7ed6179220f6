"""CloudFormation templates import into the review model with what the checks need."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from archlab.review.cloudformation import TemplateError, load_template, parse_template
from archlab.review.model import KINDS, PROPERTIES, Architecture, Link

FIXTURES = Path(__file__).parent / "fixtures" / "cloudformation"
ALL_FIXTURES = sorted(FIXTURES.iterdir())


def load(name: str) -> Architecture:
    return load_template(FIXTURES / name)


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=lambda path: path.name)
def test_every_fixture_imports_with_known_kinds_and_normalised_properties(path: Path) -> None:
    arch = load_template(path)
    assert arch.origin == "cloudformation" and arch.name == path.name
    assert arch.journeys == ()
    for resource in arch.resources.values():
        assert resource.kind in KINDS
        assert set(resource.properties) <= set(PROPERTIES.get(resource.kind, {}))
    for link in arch.links:
        assert link.source in arch.resources and link.target in arch.resources


# --- three_tier_good.yaml -------------------------------------------------------------------


def test_good_load_balancer_spans_two_zones_behind_a_waf_with_tls_and_redirects() -> None:
    balancer = load("three_tier_good.yaml").resources["LoadBalancer"]
    assert balancer.kind == "load_balancer"
    assert balancer.zones == ("us-east-1a", "us-east-1b")
    assert balancer.public is True
    assert balancer.properties == {
        "internet_facing": True,
        "waf": True,
        "https": True,
        "http_redirects": True,
        "access_logs": True,
    }


def test_good_listeners_and_target_group_become_a_route_to_the_auto_scaling_group() -> None:
    arch = load("three_tier_good.yaml")
    assert Link("LoadBalancer", "AppGroup", "routes") in arch.links
    assert Link("WebAcl", "LoadBalancer", "protects") in arch.links
    helpers = {"HttpsListener", "HttpListener", "TargetGroup", "LaunchTemplate", "RequestScaling"}
    assert not helpers & set(arch.resources)
    assert arch.unknown == ()


def test_good_auto_scaling_group_is_spread_replaced_by_elb_checks_and_scaled_on_requests() -> None:
    group = load("three_tier_good.yaml").resources["AppGroup"]
    assert group.kind == "instance_group"
    assert group.zones == ("us-east-1a", "us-east-1b") and group.count == 2
    assert group.public is False
    assert group.properties == {
        "min_size": 2,
        "max_size": 6,
        "health_check": "elb",
        "scaling": "requests",
        "http": True,
    }


def test_good_subnets_are_public_only_when_routed_to_the_internet_gateway() -> None:
    arch = load("three_tier_good.yaml")
    assert arch.resources["PublicSubnetA"].prop("public") is True
    assert arch.resources["PublicSubnetB"].zones == ("us-east-1b",)
    assert arch.resources["PrivateSubnetA"].prop("public") is False
    assert Link("PrivateSubnetA", "AppGroup", "contains") in arch.links
    assert arch.resources["InternetGateway"].kind == "gateway"
    assert arch.resources["Vpc"].kind == "network"


def test_good_aurora_cluster_folds_its_two_instances_into_one_multi_zone_database() -> None:
    arch = load("three_tier_good.yaml")
    database = arch.resources["Database"]
    assert database.kind == "database"
    assert database.properties == {
        "multi_zone": True,
        "read_replicas": 1,
        "encrypted": True,
        "backup_retention_days": 7,
        "publicly_accessible": False,
        "engine": "aurora-postgresql",
        "aurora": True,
    }
    assert database.public is False
    assert "DatabaseWriter" not in arch.resources and "DatabaseReader" not in arch.resources


def test_good_cache_fails_over_and_is_encrypted() -> None:
    cache = load("three_tier_good.yaml").resources["Cache"]
    assert cache.kind == "cache" and cache.count == 2
    assert cache.zones == ("us-east-1a", "us-east-1b")
    assert cache.properties == {"failover": True, "encrypted": True}


def test_good_security_groups_list_cidr_ingress_and_secure_what_uses_them() -> None:
    arch = load("three_tier_good.yaml")
    ingress = arch.resources["LoadBalancerSecurityGroup"].prop("ingress")
    assert {"cidr": "0.0.0.0/0", "from_port": 443, "to_port": 443, "protocol": "tcp"} in ingress
    assert len(ingress) == 2
    assert arch.resources["AppSecurityGroup"].prop("ingress") == []
    assert Link("LoadBalancerSecurityGroup", "LoadBalancer", "secures") in arch.links
    assert Link("AppSecurityGroup", "AppGroup", "secures") in arch.links  # via launch template
    assert Link("DatabaseSecurityGroup", "Database", "secures") in arch.links
    assert Link("DatabaseSecurityGroup", "Cache", "secures") in arch.links


def test_good_buckets_block_public_access_and_alarms_monitor_alb_and_group() -> None:
    arch = load("three_tier_good.yaml")
    assets = arch.resources["AssetBucket"]
    assert assets.properties == {
        "public_access_block": True,
        "encrypted": True,
        "versioning": True,
        "access_logs": True,
        "storage": "object-store",
    }
    assert arch.resources["LoadBalancer5xxAlarm"].prop("metric") == "HTTPCode_ELB_5XX_Count"
    assert Link("LoadBalancer5xxAlarm", "LoadBalancer", "monitors") in arch.links
    assert Link("AppGroupCpuAlarm", "AppGroup", "monitors") in arch.links


def test_good_knobs_are_the_resolved_parameters() -> None:
    knobs = load("three_tier_good.yaml").knobs
    assert knobs["VpcCidr"] == "10.0.0.0/16" and knobs["InstanceType"] == "t3.small"


# --- three_tier_fragile.yaml ----------------------------------------------------------------


def test_fragile_load_balancer_has_one_zone_no_waf_no_tls_no_logs() -> None:
    balancer = load("three_tier_fragile.yaml").resources["LoadBalancer"]
    assert balancer.zones == ("us-east-1a",)
    assert balancer.prop("internet_facing") is True  # Scheme's default
    assert balancer.prop("waf") is False
    assert balancer.prop("https") is False
    assert balancer.prop("http_redirects") is False
    assert balancer.prop("access_logs") is False


def test_fragile_auto_scaling_group_is_one_instance_in_one_zone_without_scaling() -> None:
    group = load("three_tier_fragile.yaml").resources["AppGroup"]
    assert group.zones == ("us-east-1a",) and group.count == 1
    assert group.prop("min_size") == 1 and group.prop("max_size") == 1
    assert group.prop("health_check") == "ec2"
    assert "scaling" in group.properties and group.prop("scaling") is None


def test_fragile_database_is_single_zone_public_unencrypted_without_backups() -> None:
    database = load("three_tier_fragile.yaml").resources["Database"]
    assert database.kind == "database"
    assert database.prop("multi_zone") is False
    assert database.prop("publicly_accessible") is True
    assert database.public is True  # its subnet group's subnets route to the internet
    assert database.prop("encrypted") is False
    assert database.prop("backup_retention_days") == 0
    assert database.prop("aurora") is False and database.prop("engine") == "postgres"
    assert database.prop("read_replicas") == 0


def test_fragile_cache_ssh_bucket_and_missing_alarms() -> None:
    arch = load("three_tier_fragile.yaml")
    cache = arch.resources["Cache"]
    assert cache.count == 1 and cache.prop("failover") is False
    ssh = {"cidr": "0.0.0.0/0", "from_port": 22, "to_port": 22, "protocol": "tcp"}
    assert ssh in arch.resources["AppSecurityGroup"].prop("ingress")
    everything = arch.resources["DatabaseSecurityGroup"].prop("ingress")
    assert everything == [
        {"cidr": "10.0.0.0/16", "from_port": 0, "to_port": 65535, "protocol": "all"}
    ]
    assert arch.resources["AssetBucket"].prop("public_access_block") is False
    assert arch.of_kind("alarm") == [] and arch.of_kind("web_acl") == []
    assert Link("DatabaseSecurityGroup", "Database", "secures") in arch.links


def test_fragile_parameter_without_default_is_an_unknown_knob() -> None:
    assert load("three_tier_fragile.yaml").knobs["DatabasePassword"] is None


# --- messaging.yaml -------------------------------------------------------------------------


def test_messaging_topic_publishes_to_each_subscribed_queue() -> None:
    arch = load("messaging.yaml")
    for queue in ("BillingQueue", "ShippingQueue", "AuditQueue"):
        assert Link("OrderEvents", queue, "publishes") in arch.links
    assert arch.resources["OrderEvents"].prop("encrypted") is False


def test_messaging_dead_letter_queues_are_named_and_marked() -> None:
    arch = load("messaging.yaml")
    assert arch.resources["BillingQueue"].prop("dead_letter") == "BillingDeadLetterQueue"
    assert arch.resources["ShippingQueue"].prop("dead_letter") == "ShippingDeadLetterQueue"
    audit = arch.resources["AuditQueue"]
    assert "dead_letter" in audit.properties and audit.prop("dead_letter") is None
    assert arch.resources["BillingDeadLetterQueue"].prop("is_dead_letter") is True
    assert arch.resources["AuditQueue"].prop("is_dead_letter") is False


def test_messaging_only_one_dead_letter_queue_is_alarmed() -> None:
    arch = load("messaging.yaml")
    dead_letters = [q.id for q in arch.of_kind("queue") if q.prop("is_dead_letter")]
    alarmed = [q for q in dead_letters if arch.links_to(q, "monitors")]
    assert sorted(dead_letters) == ["BillingDeadLetterQueue", "ShippingDeadLetterQueue"]
    assert alarmed == ["BillingDeadLetterQueue"]


def test_messaging_queue_encryption_defaults_to_sse_sqs_unless_turned_off() -> None:
    arch = load("messaging.yaml")
    assert arch.resources["BillingQueue"].prop("encrypted") is True  # SSE-SQS by default
    assert arch.resources["ShippingQueue"].prop("encrypted") is True  # a KMS key
    assert arch.resources["AuditQueue"].prop("encrypted") is False


def test_messaging_event_source_mappings_trigger_functions_that_scale_on_backlog() -> None:
    arch = load("messaging.yaml")
    assert Link("BillingQueue", "BillingFunction", "triggers") in arch.links
    assert Link("ShippingQueue", "ShippingFunction", "triggers") in arch.links
    assert Link("AuditQueue", "AuditFunction", "triggers") in arch.links
    assert all(f.prop("scaling") == "backlog" for f in arch.of_kind("function"))
    assert Link("ShippingFunction", "OrderEvents", "writes") in arch.links


def test_messaging_rule_on_the_default_bus_publishes_to_the_audit_queue() -> None:
    arch = load("messaging.yaml")
    assert arch.resources["default"].kind == "event_bus"
    assert Link("default", "AuditQueue", "publishes") in arch.links
    assert arch.unknown == (("FunctionRole", "AWS::IAM::Role"),)


# --- analytics.yaml -------------------------------------------------------------------------


def test_analytics_stream_feeds_firehose_into_the_bucket() -> None:
    arch = load("analytics.yaml")
    stream = arch.resources["Clicks"]
    assert stream.kind == "stream"
    assert stream.properties == {"shards": 2, "encrypted": True}
    assert arch.resources["ClickDelivery"].kind == "delivery_stream"
    assert Link("Clicks", "ClickDelivery", "triggers") in arch.links
    assert Link("ClickDelivery", "EventsBucket", "writes") in arch.links


def test_analytics_glue_resources_are_catalogs_and_the_table_lacks_pitr() -> None:
    arch = load("analytics.yaml")
    catalogs = {r.id for r in arch.of_kind("catalog")}
    assert catalogs == {"AnalyticsDatabase", "ClicksTable", "ClicksCrawler"}
    assert Link("ClicksCrawler", "EventsBucket", "reads") in arch.links
    sessions = arch.resources["Sessions"]
    assert sessions.properties == {"point_in_time_recovery": False, "encrypted": True}
    bucket = arch.resources["EventsBucket"]
    assert bucket.prop("encrypted") is True  # S3's default encryption
    assert bucket.prop("versioning") is False


# --- long_form.json -------------------------------------------------------------------------


def test_long_form_conditions_resolve_with_the_parameter_defaults() -> None:
    arch = load("long_form.json")
    assert arch.knobs == {"EnableDlq": "false", "Environment": "dev", "Subnets": None}
    assert "JobsDeadLetter" not in arch.resources  # Condition WithDlq is false
    assert "JobsAlarm" not in arch.resources  # Fn::Or of two false conditions
    assert arch.resources["DevNotes"].kind == "topic"  # Fn::Not of IsProd
    jobs = arch.resources["Jobs"]
    assert "dead_letter" in jobs.properties and jobs.prop("dead_letter") is None  # AWS::NoValue
    assert arch.resources["Reports"].prop("versioning") is False  # Fn::If chose "Suspended"
    assert Link("Worker", "Reports", "writes") in arch.links  # through Fn::Sub
    assert Link("Worker", "Jobs", "writes") in arch.links
    assert arch.resources["Worker"].zones == ()  # subnets from a parameter without default


def test_long_form_other_parameter_values_take_the_other_branches() -> None:
    text = (FIXTURES / "long_form.json").read_text()
    text = text.replace('"Default": "false"', '"Default": "true"')
    arch = parse_template(text, "long_form.json")
    assert arch.resources["Jobs"].prop("dead_letter") == "JobsDeadLetter"
    assert arch.resources["JobsDeadLetter"].prop("is_dead_letter") is True
    assert Link("JobsAlarm", "Jobs", "monitors") in arch.links


# --- unknown_types.yaml ---------------------------------------------------------------------


def test_unknown_types_are_listed_and_do_not_stop_the_import() -> None:
    arch = load("unknown_types.yaml")
    assert set(arch.resources) == {"Work"}
    assert arch.unknown == (
        ("Workflow", "AWS::StepFunctions::StateMachine"),
        ("Thing", "Custom::Thing"),
    )


# --- intrinsic functions --------------------------------------------------------------------

INTRINSICS = """
Parameters:
  Names:
    Type: CommaDelimitedList
    Default: "alpha, beta"
  Region:
    Type: String
    Default: eu-west-1
  Unknown:
    Type: String
Mappings:
  Sizes:
    small: {Shards: 1}
Conditions:
  Known: !Equals [!Select [1, !Ref Names], beta]
  Unknowable: !Equals [!Ref Unknown, x]
  Both: !And [!Condition Known, !Not [!Equals [!Ref Region, us-east-1]]]
Resources:
  Subnet:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: vpc-123
      CidrBlock: !Select [1, !Cidr [10.0.0.0/16, 3, 8]]
      AvailabilityZone: !Select [2, !GetAZs {Ref: Region}]
  OtherSubnet:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: vpc-123
      CidrBlock: 10.0.9.0/24
      AvailabilityZone: !Join ["", [!Ref "AWS::Region", !Select [1, !Split [",", "a,b"]]]]
  Stream:
    Type: AWS::Kinesis::Stream
    Condition: Both
    Properties:
      ShardCount: !FindInMap [Sizes, small, Shards]
  Maybe:
    Type: AWS::SNS::Topic
    Condition: Unknowable
    Properties:
      KmsMasterKeyId: !If [Unknowable, alias/aws/sns, !Ref "AWS::NoValue"]
  Function:
    Type: AWS::Lambda::Function
    Properties:
      VpcConfig:
        SubnetIds: [!Ref Subnet, !Ref OtherSubnet, !Ref "AWS::NoValue"]
      Environment:
        Variables:
          TOPIC: !Sub
            - "${Prefix}:${Maybe}"
            - Prefix: !ImportValue shared-prefix
          STREAM: !Sub "arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:${Stream}"
"""


def test_short_tags_resolve_statically_where_the_template_allows() -> None:
    arch = parse_template(INTRINSICS, "intrinsics.yaml")
    assert arch.knobs["Names"] == ["alpha", "beta"]
    assert arch.resources["Subnet"].zones == ("eu-west-1c",)
    assert arch.resources["OtherSubnet"].zones == ("us-east-1b",)
    assert arch.resources["Function"].zones == ("eu-west-1c", "us-east-1b")
    assert arch.resources["Stream"].prop("shards") == 1  # Both is true: eu-west-1 != us-east-1
    # A condition that cannot be evaluated keeps the resource, with what it cannot know unset.
    assert "encrypted" not in arch.resources["Maybe"].properties
    assert Link("Function", "Stream", "writes") in arch.links
    assert Link("Function", "Maybe", "writes") not in arch.links  # Fn::ImportValue: unknown


def test_get_att_list_form_and_dotted_form_are_the_same() -> None:
    dotted = "Value: !GetAtt Dlq.Arn"
    listed = "Value: !GetAtt [Dlq, Arn]"
    template = """
Resources:
  Dlq: {Type: AWS::SQS::Queue}
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy: {deadLetterTargetArn: %s, maxReceiveCount: 3}
"""
    for form in (dotted, listed):
        value = form.removeprefix("Value: ")
        arch = parse_template(template % value)
        assert arch.resources["Queue"].prop("dead_letter") == "Dlq"


# --- errors ---------------------------------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_malformed_yaml_is_a_template_error_naming_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", "Resources:\n  Queue: [unclosed\n")
    with pytest.raises(TemplateError, match=r"broken\.yaml: not valid YAML or JSON"):
        load_template(path)


def test_unknown_tag_is_a_template_error(tmp_path: Path) -> None:
    path = write(tmp_path, "tagged.yaml", "Resources:\n  Q:\n    Type: !Nope x\n")
    with pytest.raises(TemplateError, match=r"tagged\.yaml"):
        load_template(path)


def test_template_without_resources_is_a_template_error(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.yaml", "AWSTemplateFormatVersion: '2010-09-09'\n")
    with pytest.raises(TemplateError, match=r"empty\.yaml: no Resources section"):
        load_template(path)


def test_resource_without_type_is_a_template_error(tmp_path: Path) -> None:
    path = write(tmp_path, "typeless.json", '{"Resources": {"Queue": {"Properties": {}}}}')
    with pytest.raises(TemplateError, match=r"typeless\.json: resource 'Queue' has no Type"):
        load_template(path)


@pytest.mark.parametrize(
    "text",
    ["just a string", "- a\n- list\n", "Resources: []\n", "Resources:\n  Q: 3\n"],
)
def test_documents_that_are_not_templates_are_template_errors(text: str) -> None:
    with pytest.raises(TemplateError, match=r"^odd\.yaml: "):
        parse_template(text, "odd.yaml")


def test_missing_file_is_a_template_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=r"absent\.yaml: cannot be read"):
        load_template(tmp_path / "absent.yaml")


def test_malformed_intrinsics_resolve_to_unknown_not_to_a_crash() -> None:
    text = """
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      SqsManagedSseEnabled: !Select [9, [true]]
      RedrivePolicy: !If [NoSuchCondition, {}, {}]
  Stream:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: !Join [",", notalist]
      StreamModeDetails: !FindInMap [Missing, a, b]
"""
    arch = parse_template(text)
    assert "encrypted" not in arch.resources["Queue"].properties
    assert "dead_letter" not in arch.resources["Queue"].properties
    assert "shards" not in arch.resources["Stream"].properties


# --- performance ----------------------------------------------------------------------------


def big_template(groups: int) -> str:
    """``groups`` each of queues, topics, subscriptions (topic to queue) and buckets."""
    lines = ["Resources:"]
    for index in range(groups):
        lines += [
            f"  Queue{index}:",
            "    Type: AWS::SQS::Queue",
            "    Properties:",
            "      RedrivePolicy:",
            f"        deadLetterTargetArn: !GetAtt Queue{(index + 1) % groups}.Arn",
            "        maxReceiveCount: 3",
            f"  Topic{index}:",
            "    Type: AWS::SNS::Topic",
            "    Properties:",
            f'      TopicName: !Sub "${{AWS::StackName}}-topic-{index}"',
            f"  Subscription{index}:",
            "    Type: AWS::SNS::Subscription",
            "    Properties:",
            f"      TopicArn: !Ref Topic{index}",
            "      Protocol: sqs",
            f"      Endpoint: !GetAtt Queue{index}.Arn",
            f"  Bucket{index}:",
            "    Type: AWS::S3::Bucket",
            "    Properties:",
            "      NotificationConfiguration:",
            "        TopicConfigurations:",
            "          - Event: s3:ObjectCreated:*",
            f"            Topic: !Ref Topic{index}",
        ]
    return "\n".join(lines) + "\n"


def test_a_thousand_resource_template_imports_well_under_a_second() -> None:
    text = big_template(250)
    started = time.perf_counter()
    arch = parse_template(text, "big.yaml")
    elapsed = time.perf_counter() - started
    assert len(arch.resources) == 750  # the subscriptions become links
    assert len(arch.links) == 500
    assert Link("Topic7", "Queue7", "publishes") in arch.links
    assert Link("Bucket7", "Topic7", "publishes") in arch.links
    assert arch.resources["Queue7"].prop("dead_letter") == "Queue8"
    assert elapsed < 1.0, f"{elapsed:.3f}s"


# --- smaller shapes -------------------------------------------------------------------------

INSTANCES = """
Resources:
  Subnet:
    Type: AWS::EC2::Subnet
    Properties: {VpcId: vpc-1, CidrBlock: 10.0.0.0/24, AvailabilityZone: us-east-1b,
                 MapPublicIpOnLaunch: true}
  Nat:
    Type: AWS::EC2::NatGateway
    Properties: {SubnetId: !Ref Subnet, AllocationId: eipalloc-1}
  Web:
    Type: AWS::EC2::Instance
    Properties: {ImageId: ami-1, SubnetId: !Ref Subnet}
  Bastion:
    Type: AWS::EC2::Instance
    Properties: {ImageId: ami-1, AvailabilityZone: us-east-1c}
  BastionIp:
    Type: AWS::EC2::EIP
    Properties: {InstanceId: !Ref Bastion}
  Internal:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties: {Scheme: internal, Subnets: [!Ref Subnet, subnet-external]}
  Targets:
    Type: AWS::ElasticLoadBalancingV2::TargetGroup
    Properties: {Port: 80, Protocol: HTTP, Targets: [{Id: !Ref Web}]}
  Listener:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: !Ref Internal
      Protocol: HTTP
      Port: 80
      DefaultActions:
        - Type: forward
          ForwardConfig: {TargetGroups: [{TargetGroupArn: !Ref Targets}]}
  Workers:
    Type: AWS::AutoScaling::AutoScalingGroup
    Properties: {MinSize: "1", MaxSize: "4", AvailabilityZones: !GetAZs ""}
  BacklogScaling:
    Type: AWS::AutoScaling::ScalingPolicy
    Properties:
      AutoScalingGroupName: !Ref Workers
      PolicyType: TargetTrackingScaling
      TargetTrackingConfiguration:
        TargetValue: 100
        CustomizedMetricSpecification:
          MetricName: ApproximateNumberOfMessagesVisible
          Namespace: AWS/SQS
          Statistic: Average
  Primary:
    Type: AWS::RDS::DBInstance
    Properties: {Engine: MySQL, DBInstanceClass: db.t3.micro, StorageEncrypted: true}
  Replica:
    Type: AWS::RDS::DBInstance
    Properties: {SourceDBInstanceIdentifier: !Ref Primary, DBInstanceClass: db.t3.micro}
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties: {Name: api}
  Handler:
    Type: AWS::Lambda::Function
    Properties: {Runtime: python3.12, Handler: index.handler, Role: arn:aws:iam::1:role/r,
                 Code: {ZipFile: "def handler(e, c): pass"}}
  Method:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api
      HttpMethod: GET
      ResourceId: !GetAtt Api.RootResourceId
      Integration:
        Type: AWS_PROXY
        IntegrationHttpMethod: POST
        Uri: !Sub >-
          arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Handler.Arn}/invocations
"""


def test_instances_are_public_in_a_public_subnet_or_with_an_elastic_ip() -> None:
    arch = parse_template(INSTANCES)
    web, bastion = arch.resources["Web"], arch.resources["Bastion"]
    assert web.zones == ("us-east-1b",) and web.public is True and web.prop("http") is True
    assert bastion.zones == ("us-east-1c",) and bastion.public is True
    assert bastion.prop("http") is False
    assert arch.resources["Nat"].kind == "gateway"
    assert Link("Subnet", "Nat", "contains") in arch.links


def test_internal_balancer_with_an_outside_subnet_has_unknown_zones_and_routes_to_targets() -> None:
    arch = parse_template(INSTANCES)
    balancer = arch.resources["Internal"]
    assert balancer.prop("internet_facing") is False and balancer.public is False
    assert balancer.zones == ()  # one subnet is not in the template
    assert balancer.prop("http_redirects") is False
    assert Link("Internal", "Web", "routes") in arch.links


def test_group_scaled_on_queue_depth_has_backlog_scaling_and_zones_from_its_list() -> None:
    workers = parse_template(INSTANCES).resources["Workers"]
    assert workers.prop("scaling") == "backlog"
    assert workers.zones == ("us-east-1a", "us-east-1b", "us-east-1c")
    assert workers.count == 1 and workers.prop("http") is False
    assert workers.prop("health_check") == "ec2"


def test_read_replicas_count_towards_their_source_and_api_calls_its_function() -> None:
    arch = parse_template(INSTANCES)
    primary, replica = arch.resources["Primary"], arch.resources["Replica"]
    assert primary.prop("read_replicas") == 1 and primary.prop("engine") == "mysql"
    assert primary.prop("backup_retention_days") == 1  # CloudFormation's default
    assert primary.prop("publicly_accessible") is True  # the default VPC's default
    assert "encrypted" not in replica.properties  # inherited from its source
    assert arch.resources["Api"].kind == "api" and arch.resources["Api"].public is True
    assert Link("Api", "Handler", "calls") in arch.links


def test_json_redrive_policy_built_with_sub_names_its_dead_letter_queue() -> None:
    text = """{"Resources": {
      "Dlq": {"Type": "AWS::SQS::Queue"},
      "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"RedrivePolicy": {"Fn::Sub":
        "{\\"deadLetterTargetArn\\": \\"${Dlq.Arn}\\", \\"maxReceiveCount\\": 3}"}}},
      "Elsewhere": {"Type": "AWS::SQS::Queue", "Properties": {"RedrivePolicy":
        "{\\"deadLetterTargetArn\\": \\"arn:aws:sqs:us-east-1:1:shared\\"}"}}}}"""
    arch = parse_template(text, "redrive.json")
    assert arch.resources["Queue"].prop("dead_letter") == "Dlq"
    assert arch.resources["Dlq"].prop("is_dead_letter") is True
    assert "dead_letter" not in arch.resources["Elsewhere"].properties  # outside the template


def test_ingress_rules_with_unknown_ports_or_blocks_are_left_out() -> None:
    text = """
Parameters:
  Port: {Type: Number}
  Block: {Type: String}
Resources:
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: mixed
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: !Ref Port, ToPort: !Ref Port, CidrIp: 0.0.0.0/0}
        - {IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: !Ref Block}
        - {IpProtocol: "6", FromPort: 443, ToPort: 443, CidrIpv6: "::/0"}
  Extra:
    Type: AWS::EC2::SecurityGroupIngress
    Properties: {GroupId: !GetAtt Group.GroupId, IpProtocol: udp, FromPort: 53, ToPort: 53,
                 CidrIp: 10.0.0.0/8}
"""
    ingress = parse_template(text).resources["Group"].prop("ingress")
    assert ingress == [
        {"cidr": "::/0", "from_port": 443, "to_port": 443, "protocol": "tcp"},
        {"cidr": "10.0.0.0/8", "from_port": 53, "to_port": 53, "protocol": "udp"},
    ]
