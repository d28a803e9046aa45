#!/usr/bin/env bash
# The manual guide's steps on AWS as the plain script a user would write: the `aws` CLI and
# ssh/scp, one step after another, nothing in parallel. Issue 13's benchmark 2 times it against
# carto-provision (bench/sequential-baseline runs both on the same emulator, latency and test
# VM); it is not a supported way to deploy.
#
# Inputs (environment): ENDPOINT (the AWS API to call), ENVIRONMENT (the name every resource
# is tagged with), DOMAIN, ZONE (the hosted zone's name), PACKAGE (folder with customer.env and
# key.json), REPO and TAG (the carto-selfhosted repository and release), WORK (an empty folder
# for the SSH key and the edited package).
set -euo pipefail
: "${ENDPOINT:?}" "${ENVIRONMENT:?}" "${DOMAIN:?}" "${ZONE:?}" "${PACKAGE:?}" "${REPO:?}" "${TAG:?}" "${WORK:?}"

aws() { command aws --endpoint-url "$ENDPOINT" --region us-east-1 --output text "$@"; }
step() { printf '%s guide: %s\n' "$(date +%s.%N)" "$*" >&2; }
tags() { printf 'ResourceType=%s,Tags=[{Key=carto-env,Value=%s}]' "$1" "$ENVIRONMENT"; }

step "key pair"
ssh-keygen -q -t ed25519 -N '' -C "$ENVIRONMENT" -f "$WORK/id"
aws ec2 import-key-pair --key-name "$ENVIRONMENT" --public-key-material "fileb://$WORK/id.pub" \
    --tag-specifications "$(tags key-pair)" >/dev/null
# What AWS does with the key pair on a real Ubuntu image (the test VM only reads user-data).
cat >"$WORK/user-data" <<CONFIG
#cloud-config
users:
  - name: ubuntu
    groups: [sudo]
    shell: /bin/bash
    sudo: "ALL=(ALL) NOPASSWD:ALL"
    ssh_authorized_keys:
      - $(cat "$WORK/id.pub")
CONFIG

step "Ubuntu 22.04 image"
ami=$(aws ssm get-parameter --query Parameter.Value \
    --name /aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id)

step "firewall: SSH from here, HTTPS from anywhere"
vpc=$(aws ec2 describe-vpcs --filters Name=isDefault,Values=true --query 'Vpcs[0].VpcId')
sg=$(aws ec2 create-security-group --group-name "$ENVIRONMENT" --vpc-id "$vpc" \
    --description "CARTO Self-Hosted" --tag-specifications "$(tags security-group)" --query GroupId)
aws ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr 127.0.0.1/32 >/dev/null
aws ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 443 --cidr 0.0.0.0/0 >/dev/null

step "VM: CARTO's minimum spec, SSD disk"
id=$(aws ec2 run-instances --image-id "$ami" --instance-type m6i.xlarge --key-name "$ENVIRONMENT" \
    --security-group-ids "$sg" --user-data "file://$WORK/user-data" \
    --block-device-mappings 'DeviceName=/dev/sda1,Ebs={VolumeSize=100,VolumeType=gp3}' \
    --tag-specifications "$(tags instance)" --query 'Instances[0].InstanceId')
aws ec2 wait instance-running --instance-ids "$id"

step "static address and DNS record"
alloc=$(aws ec2 allocate-address --domain vpc --tag-specifications "$(tags elastic-ip)" --query AllocationId)
aws ec2 associate-address --instance-id "$id" --allocation-id "$alloc" >/dev/null
ip=$(aws ec2 describe-addresses --allocation-ids "$alloc" --query 'Addresses[0].PublicIp')
zone=$(aws route53 list-hosted-zones-by-name --dns-name "$ZONE" --max-items 1 --query 'HostedZones[0].Id')
aws route53 change-resource-record-sets --hosted-zone-id "$zone" --change-batch \
    "{\"Changes\":[{\"Action\":\"UPSERT\",\"ResourceRecordSet\":{\"Name\":\"$DOMAIN.\",\"Type\":\"A\",\"TTL\":300,\"ResourceRecords\":[{\"Value\":\"$ip\"}]}}]}" >/dev/null

step "SSH in"
ssh_opts=(-i "$WORK/id" -o UserKnownHostsFile="$WORK/known_hosts" -o StrictHostKeyChecking=accept-new
    -o BatchMode=yes -o ConnectTimeout=5)
on_vm() { ssh "${ssh_opts[@]}" "ubuntu@$ip" "$@"; }
until on_vm true 2>/dev/null; do sleep 2; done
on_vm cloud-init status --wait >/dev/null

step "Docker and docker-compose"
on_vm 'command -v docker && command -v docker-compose || { sudo apt-get update && sudo apt-get install -y docker.io docker-compose; }' >/dev/null
on_vm sudo usermod -aG docker ubuntu

step "carto-selfhosted at $TAG"
on_vm git clone --quiet --branch "$TAG" "$REPO" carto-selfhosted

step "installation package: customer.env (domain) and key.json"
cp "$PACKAGE/customer.env" "$PACKAGE/key.json" "$WORK/"
sed -i '/^SELFHOSTED_DOMAIN=/d' "$WORK/customer.env"
echo "SELFHOSTED_DOMAIN=$DOMAIN" >>"$WORK/customer.env"
chmod 600 "$WORK/customer.env" "$WORK/key.json"
scp -q -p "${ssh_opts[@]}" "$WORK/customer.env" "$WORK/key.json" "ubuntu@$ip:carto-selfhosted/"

step "install.sh and docker-compose up -d"
on_vm 'cd carto-selfhosted && bash install.sh && chmod 600 .env && docker-compose up -d' >/dev/null 2>&1

step "containers up (workspace-migrations exited 0)"
up_check='cd carto-selfhosted
ps=$(docker-compose ps -a --format "{{.Service}} {{.State}} {{.ExitCode}}")
services=$(docker-compose config --services | wc -l)
echo "$ps" | grep -qx "workspace-migrations exited 0" &&
    [ "$(echo "$ps" | grep -c " running ")" = "$((services - 1))" ]'
until on_vm "$up_check"; do sleep 2; done
step "done"
