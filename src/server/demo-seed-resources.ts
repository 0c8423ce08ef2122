/**
 * The resources of the built-in demo seed (demo-seed.ts): nodes, databases, apps, Kubernetes,
 * a Windows desktop, a user group, a SAML IdP service provider and AWS Identity Center
 * accounts and assignments, in Teleport's resource format.
 */
export const DEMO_RESOURCES_YAML = `kind: node
version: v2
metadata:
  name: 8c3a5f1e-2b7d-4c1a-9e0f-1a2b3c4d5e01
  labels:
    env: dev
    role: web
spec:
  hostname: web-dev-1
  addr: 10.0.1.10:3022
---
kind: node
version: v2
metadata:
  name: 8c3a5f1e-2b7d-4c1a-9e0f-1a2b3c4d5e02
  labels:
    env: staging
    role: api
spec:
  hostname: api-staging-1
  addr: 10.0.2.10:3022
---
kind: node
version: v2
metadata:
  name: 8c3a5f1e-2b7d-4c1a-9e0f-1a2b3c4d5e03
  labels:
    env: prod
    role: api
spec:
  hostname: api-prod-1
  addr: 10.0.3.10:3022
---
kind: node
version: v2
metadata:
  name: 8c3a5f1e-2b7d-4c1a-9e0f-1a2b3c4d5e04
  labels:
    env: prod
    role: db
spec:
  hostname: db-prod-1
  addr: 10.0.3.20:3022
---
kind: db
version: v3
metadata:
  name: postgres-dev
  description: Development PostgreSQL
  labels:
    env: dev
    engine: postgres
spec:
  protocol: postgres
  uri: postgres-dev.internal:5432
---
kind: db
version: v3
metadata:
  name: mysql-prod
  description: Production MySQL
  labels:
    env: prod
    engine: mysql
spec:
  protocol: mysql
  uri: mysql-prod.internal:3306
---
kind: app
version: v3
metadata:
  name: grafana
  labels:
    env: staging
spec:
  uri: http://grafana.internal:3000
  public_addr: grafana.teleport.example.com
---
kind: app
version: v3
metadata:
  name: billing
  labels:
    env: prod
spec:
  uri: http://billing.internal:8080
  public_addr: billing.teleport.example.com
---
kind: kube_cluster
version: v3
metadata:
  name: demo-kube
  labels:
    env: staging
    region: eu-west-1
---
kind: kube_resource
version: v1
metadata:
  name: web-7d9f8
  labels:
    app: web
spec:
  kind: pods
  namespace: dev
  kube_cluster: demo-kube
---
kind: kube_resource
version: v1
metadata:
  name: worker-5c4b2
  labels:
    app: worker
spec:
  kind: pods
  namespace: dev
  kube_cluster: demo-kube
---
kind: kube_resource
version: v1
metadata:
  name: api-6f7a1
  labels:
    app: api
spec:
  kind: pods
  namespace: prod
  kube_cluster: demo-kube
---
kind: windows_desktop
version: v3
metadata:
  name: win-dev-1
  labels:
    env: dev
spec:
  addr: 10.0.4.10:3389
  domain: corp.example.com
---
kind: user_group
version: v1
metadata:
  name: okta-dev-team
  labels:
    env: dev
spec:
  applications: [grafana-saml]
---
kind: saml_idp_service_provider
version: v1
metadata:
  name: grafana-saml
  labels:
    env: dev
spec:
  entity_id: https://grafana.example.com/saml/metadata
  acs_url: https://grafana.example.com/saml/acs
---
kind: aws_ic_account
version: v1
metadata:
  name: aws-staging
  labels:
    teleport.dev/origin: aws-identity-center
spec:
  id: '111111111111'
  arn: arn:aws:organizations::000000000000:account/o-example/111111111111
  name: Staging
  start_url: https://d-906700a1b2.awsapps.com/start
---
kind: aws_ic_account
version: v1
metadata:
  name: aws-production
  labels:
    teleport.dev/origin: aws-identity-center
spec:
  id: '222222222222'
  name: Production
  start_url: https://d-906700a1b2.awsapps.com/start
---
kind: aws_ic_account_assignment
version: v1
metadata:
  name: 111111111111--ReadOnly
  labels:
    teleport.dev/origin: aws-identity-center
spec:
  display: '"ReadOnly" on "Staging"'
  account_id: '111111111111'
  account_name: Staging
  permission_set:
    arn: arn:aws:sso:::permissionSet/ssoins-example/ps-readonly
    name: ReadOnly
---
kind: aws_ic_account_assignment
version: v1
metadata:
  name: 222222222222--AdminAccess
  labels:
    teleport.dev/origin: aws-identity-center
spec:
  display: '"AdminAccess" on "Production"'
  account_id: '222222222222'
  account_name: Production
  permission_set:
    arn: arn:aws:sso:::permissionSet/ssoins-example/ps-admin
    name: AdminAccess
`;
