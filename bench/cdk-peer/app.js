// Benchmark peer: the two stacks the reference builds with AWS CDK (the App
// Runner service and the pipeline), for one environment given with
// `-c env=dev`. Written for apprun's synth benchmark; it mirrors the
// reference's resources so that both tools synthesize comparable templates.
const cdk = require('aws-cdk-lib');
const apprunner = require('aws-cdk-lib/aws-apprunner');
const codebuild = require('aws-cdk-lib/aws-codebuild');
const codecommit = require('aws-cdk-lib/aws-codecommit');
const codepipeline = require('aws-cdk-lib/aws-codepipeline');
const actions = require('aws-cdk-lib/aws-codepipeline-actions');
const iam = require('aws-cdk-lib/aws-iam');
const s3 = require('aws-cdk-lib/aws-s3');

const app = new cdk.App();
const envName = app.node.tryGetContext('env') || 'dev';
const systemId = 'apprunner-nuxt3';
const sizes = { dev: ['1 vCPU', '2 GB'], stg: ['2 vCPU', '4 GB'], prod: ['2 vCPU', '4 GB'] };
const branches = { dev: 'main', stg: 'stg', prod: 'prod' };
const imp = (x) => cdk.Fn.importValue(`${systemId}-${envName}-${x}`);

class ServiceStack extends cdk.Stack {
  constructor(scope, id, props) {
    super(scope, id, props);
    const tag = new cdk.CfnParameter(this, 'ImageTag', { type: 'String' });
    const connector = new apprunner.CfnVpcConnector(this, 'VpcConnector', {
      vpcConnectorName: `${systemId}-${envName}-web`,
      subnets: [imp('ProtectSubnetAZa'), imp('ProtectSubnetAZc')],
      securityGroups: [imp('ProtectSecurityGroup')],
    });
    new apprunner.CfnService(this, 'Service', {
      serviceName: `${systemId}-${envName}-web`,
      sourceConfiguration: {
        authenticationConfiguration: { accessRoleArn: cdk.Fn.importValue(`${systemId}-AppRunnerAccessRoleArn`) },
        autoDeploymentsEnabled: false,
        imageRepository: {
          imageIdentifier: cdk.Fn.join(':', [imp('EcrRepositoryUri'), tag.valueAsString]),
          imageRepositoryType: 'ECR',
          imageConfiguration: {
            port: '3000',
            runtimeEnvironmentVariables: [{ name: 'ENV', value: envName }, { name: 'SYSTEM_ID', value: systemId }],
          },
        },
      },
      instanceConfiguration: {
        cpu: sizes[envName][0],
        memory: sizes[envName][1],
        instanceRoleArn: cdk.Fn.importValue(`${systemId}-AppRunnerInstanceRoleArn`),
      },
      healthCheckConfiguration: { protocol: 'HTTP', path: '/', interval: 10, timeout: 3, healthyThreshold: 1, unhealthyThreshold: 3 },
      networkConfiguration: { egressConfiguration: { egressType: 'VPC', vpcConnectorArn: connector.attrVpcConnectorArn } },
    });
  }
}

class PipelineStack extends cdk.Stack {
  constructor(scope, id, props) {
    super(scope, id, props);
    const role = iam.Role.fromRoleArn(this, 'Role', cdk.Fn.importValue(`${systemId}-PipelineRoleArn`), { mutable: false });
    const bucket = s3.Bucket.fromBucketName(this, 'Artifacts', `${systemId}-${envName}-temporary`);
    const repo = codecommit.Repository.fromRepositoryName(this, 'Repo', systemId);
    const source = new codepipeline.Artifact('Source');
    const built = new codepipeline.Artifact('Built');
    const project = new codebuild.PipelineProject(this, 'Build', {
      role,
      environment: { buildImage: codebuild.LinuxBuildImage.STANDARD_7_0, privileged: true },
      buildSpec: codebuild.BuildSpec.fromObject({
        version: '0.2',
        phases: { build: { commands: ['IMAGE_TAG=$(echo $CODEBUILD_RESOLVED_SOURCE_VERSION | cut -c1-7)', 'docker build -t $REPO:$IMAGE_TAG .', 'docker push $REPO:$IMAGE_TAG'] } },
        artifacts: { files: ['**/*'] },
      }),
    });
    new codepipeline.Pipeline(this, 'Pipeline', {
      pipelineName: `${systemId}-${envName}`,
      role,
      artifactBucket: bucket,
      stages: [
        { stageName: 'Source', actions: [new actions.CodeCommitSourceAction({ actionName: 'Source', repository: repo, branch: branches[envName], output: source, role })] },
        { stageName: 'Build', actions: [new actions.CodeBuildAction({ actionName: 'Build', project, input: source, outputs: [built], role })] },
        { stageName: 'Approval', actions: [new actions.ManualApprovalAction({ actionName: 'Approval', additionalInformation: 'Please review', role })] },
        { stageName: 'Deploy', actions: [new actions.CodeBuildAction({ actionName: 'Deploy', project, input: built, role })] },
      ],
    });
  }
}

const env = { account: '123456789012', region: 'ap-northeast-1' };
new ServiceStack(app, `${systemId}-${envName}-service`, { env });
new PipelineStack(app, `${systemId}-${envName}-pipeline`, { env });
