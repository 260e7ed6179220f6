"""Reviewing CloudFormation templates: every seeded defect of the fixtures is found, the good
template is clean, and a 1,000-resource template is reviewed in under a second."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from archlab.review.checks import run_checks
from archlab.review.cloudformation import load_template, parse_template
from archlab.review.report import review

FIXTURES = Path(__file__).parent / "fixtures" / "cloudformation"


def found(name: str) -> set[tuple[str, str, tuple[str, ...]]]:
    arch = load_template(FIXTURES / name)
    return {(f.severity, f.id, f.resources) for f in run_checks(arch)}


def test_every_defect_seeded_in_the_fragile_three_tier_template_is_found() -> None:
    assert found("three_tier_fragile.yaml") == {
        # the load balancer: one zone, no WAF, plain HTTP, no logs
        ("high", "REL-LB-ZONES", ("LoadBalancer",)),
        ("high", "SEC-LB-WAF", ("LoadBalancer",)),
        ("medium", "SEC-HTTPS", ("LoadBalancer",)),
        ("low", "SEC-ACCESS-LOGS", ("LoadBalancer",)),
        # the group: one instance in one zone, EC2 health checks, no scaling
        ("high", "REL-SPOF", ("AppGroup",)),
        ("high", "REL-ONE-ZONE", ("AppGroup",)),
        ("high", "REL-ASG-HEALTH", ("AppGroup",)),
        ("medium", "REL-NO-AUTOSCALING", ("AppGroup",)),
        # the database: single-AZ, public, unencrypted, no backups
        ("high", "REL-DB-MULTI-AZ", ("Database",)),
        ("high", "SEC-DB-PUBLIC", ("Database",)),
        ("high", "REL-BACKUPS", ("Database",)),
        ("medium", "SEC-ENCRYPTION", ("Database",)),
        # the cache: one node
        ("medium", "REL-CACHE-FAILOVER", ("Cache",)),
        ("medium", "SEC-ENCRYPTION", ("Cache",)),
        # SSH from the world, a bucket without a public-access block or versions, no alarms
        ("high", "SEC-SG-OPEN", ("AppSecurityGroup",)),
        ("medium", "SEC-BUCKET-PAB", ("AssetBucket",)),
        ("low", "REL-BACKUPS", ("AssetBucket",)),
        ("medium", "OPS-NO-ALARMS", ("LoadBalancer", "AppGroup", "Database", "Cache")),
    }


def test_the_good_three_tier_template_has_no_finding() -> None:
    assert found("three_tier_good.yaml") == set()


def test_messaging_finds_the_queue_without_a_dead_letter_queue_and_the_unwatched_one() -> None:
    result = found("messaging.yaml")
    assert ("high", "REL-QUEUE-DLQ", ("AuditQueue",)) in result
    assert ("medium", "OPS-DLQ-ALARM", ("ShippingDeadLetterQueue",)) in result
    assert not any(f[1] == "OPS-DLQ-ALARM" and f[2] == ("BillingDeadLetterQueue",) for f in result)
    assert ("medium", "SEC-ENCRYPTION", ("AuditQueue",)) in result


def test_analytics_finds_the_table_without_point_in_time_recovery() -> None:
    assert ("medium", "REL-BACKUPS", ("Sessions",)) in found("analytics.yaml")


def test_long_form_json_finds_the_queue_its_default_parameters_leave_without_a_dlq() -> None:
    assert ("medium", "REL-QUEUE-DLQ", ("Jobs",)) in found("long_form.json")


def test_the_good_template_journeys_are_highly_available_and_the_fragile_ones_not() -> None:
    good = review(load_template(FIXTURES / "three_tier_good.yaml"), today=dt.date(2026, 12, 7))
    fragile = review(
        load_template(FIXTURES / "three_tier_fragile.yaml"), today=dt.date(2026, 12, 7)
    )
    assert {j.name for j in good.journeys} == {"LoadBalancer → Database", "LoadBalancer → Cache"}
    assert min(j.availability for j in good.journeys) > 0.999
    assert max(j.availability for j in fragile.journeys) < 0.99
    assert {j.weakest for j in fragile.journeys} == {"AppGroup"}


def web_stacks(copies: int) -> str:
    """``copies`` three-tier stacks side by side, 16 resources each, with the wiring (security
    groups, listeners, target groups, user data) that makes their journeys."""
    lines = ["Resources:"]
    for n in range(copies):
        lines += f"""
  Vpc{n}:
    Type: AWS::EC2::VPC
    Properties: {{CidrBlock: 10.{n % 250}.0.0/16}}
  SubnetA{n}:
    Type: AWS::EC2::Subnet
    Properties: {{VpcId: !Ref Vpc{n}, CidrBlock: 10.0.1.0/24, AvailabilityZone: us-east-1a}}
  SubnetB{n}:
    Type: AWS::EC2::Subnet
    Properties: {{VpcId: !Ref Vpc{n}, CidrBlock: 10.0.2.0/24, AvailabilityZone: us-east-1b}}
  LbGroup{n}:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: web
      SecurityGroupIngress: [{{IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 0.0.0.0/0}}]
  AppGroupSg{n}:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: app
      SecurityGroupIngress:
        - {{IpProtocol: tcp, FromPort: 8080, ToPort: 8080, SourceSecurityGroupId: !Ref LbGroup{n}}}
  DbGroup{n}:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: db
      SecurityGroupIngress:
        - {{IpProtocol: tcp, FromPort: 5432, ToPort: 5432,
           SourceSecurityGroupId: !Ref AppGroupSg{n}}}
  Lb{n}:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties: {{Subnets: [!Ref SubnetA{n}, !Ref SubnetB{n}], SecurityGroups: [!Ref LbGroup{n}]}}
  Targets{n}:
    Type: AWS::ElasticLoadBalancingV2::TargetGroup
    Properties: {{Protocol: HTTP, Port: 8080, VpcId: !Ref Vpc{n}}}
  Listener{n}:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: !Ref Lb{n}
      Protocol: HTTPS
      Port: 443
      DefaultActions: [{{Type: forward, TargetGroupArn: !Ref Targets{n}}}]
  Launch{n}:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        ImageId: ami-0abcdef1234567890
        SecurityGroupIds: [!Ref AppGroupSg{n}]
        UserData: {{"Fn::Base64": !Sub "DB=${{Db{n}.Endpoint.Address}} Q=${{Jobs{n}}}"}}
  App{n}:
    Type: AWS::AutoScaling::AutoScalingGroup
    Properties:
      LaunchTemplate: {{LaunchTemplateId: !Ref Launch{n}, Version: "1"}}
      VPCZoneIdentifier: [!Ref SubnetA{n}, !Ref SubnetB{n}]
      MinSize: "2"
      MaxSize: "6"
      HealthCheckType: ELB
      TargetGroupARNs: [!Ref Targets{n}]
  Scaling{n}:
    Type: AWS::AutoScaling::ScalingPolicy
    Properties:
      AutoScalingGroupName: !Ref App{n}
      PolicyType: TargetTrackingScaling
      TargetTrackingConfiguration:
        PredefinedMetricSpecification: {{PredefinedMetricType: ASGAverageCPUUtilization}}
        TargetValue: 50
  Db{n}:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: postgres
      DBInstanceClass: db.t3.micro
      MultiAZ: {"true" if n % 2 else "false"}
      VPCSecurityGroups: [!Ref DbGroup{n}]
  Jobs{n}:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy: {{deadLetterTargetArn: !GetAtt JobsDlq{n}.Arn, maxReceiveCount: 3}}
  JobsDlq{n}:
    Type: AWS::SQS::Queue
  Alarm{n}:
    Type: AWS::CloudWatch::Alarm
    Properties:
      MetricName: ApproximateNumberOfMessagesVisible
      Namespace: AWS/SQS
      Dimensions: [{{Name: QueueName, Value: !GetAtt JobsDlq{n}.QueueName}}]
      ComparisonOperator: GreaterThanThreshold
      Threshold: 0
      EvaluationPeriods: 1
      Period: 60
      Statistic: Sum""".splitlines()[1:]
    return "\n".join(lines) + "\n"


def test_a_thousand_resource_template_is_reviewed_in_under_a_second() -> None:
    copies = 63
    text = web_stacks(copies)
    assert text.count("    Type: ") >= 1_000
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        result = review(parse_template(text, "stacks.yaml"), today=dt.date(2026, 12, 7))
        timings.append(time.perf_counter() - started)
    assert len(result.journeys) >= copies
    single = [f for f in result.findings if f.id == "REL-DB-MULTI-AZ"]
    assert len(single) == (copies + 1) // 2 and all(f.severity == "high" for f in single)
    assert min(timings) < 1.0, f"reviews took {timings}"


@pytest.mark.parametrize("copies", [1, 2])
def test_stacked_copies_are_reviewed_independently(copies: int) -> None:
    result = review(parse_template(web_stacks(copies), "s.yaml"), today=dt.date(2026, 12, 7))
    assert len([j for j in result.journeys if j.name.startswith("Lb")]) == copies * 2


def test_two_producers_feeding_one_queue_is_not_a_dispatcher() -> None:
    assert not [f for f in found("messaging.yaml") if f[1] == "PERF-DISPATCHER"]
