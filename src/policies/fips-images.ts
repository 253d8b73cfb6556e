import type { ImageModel, Policy, PolicyViolation } from '../engine/types.js';
import { containerImages, imageTag, violation } from './util.js';

const COMPONENTS = ['gloo-mesh-mgmt-server', 'gloo-mesh-agent'];

function suffixOf(options: Record<string, unknown>): string {
  return typeof options.suffix === 'string' ? options.suffix : '-fips';
}

function checkImage(
  image: ImageModel | undefined,
  enabled: boolean | undefined,
  suffix: string,
): PolicyViolation[] {
  if (!image || !enabled || image.tag.value.endsWith(suffix)) return [];
  const tag = image.tag.value;
  // An empty tag is the chart version, which is unknown when values are checked without it.
  const what = tag === '' ? 'the image tag is empty (the chart version), which' : `image tag "${tag}"`;
  const example = tag === '' ? `<chart version>${suffix}` : `${tag}${suffix}`;
  return [
    violation(
      `${what} is not a FIPS build`,
      image.tag.path,
      `set ${image.tag.path} to the ${suffix} build, e.g. ${example}`,
    ),
  ];
}

/** When turned on: management server and agent images must be FIPS builds. */
export const fipsImages: Policy = {
  id: 'fips-images',
  title: 'FIPS-compliant images',
  severity: 'medium',
  defaultAction: 'off',
  description:
    'For environments that need NIST FIPS compliance, the vendor publishes management server and agent images whose ' +
    'tag ends in -fips. Off by default; turn it on where FIPS is required. An empty tag means the chart version, ' +
    'which is not a FIPS build.',
  remediation: 'append -fips to the image tag of the management server and the agent',
  appliesTo: ['release', 'deployment'],
  match: { deployment: [{ names: COMPONENTS }] },
  options: { suffix: { description: 'tag suffix that marks a FIPS build', default: '-fips' } },
  validate(subject, ctx): PolicyViolation[] {
    const suffix = suffixOf(ctx.options);
    if (subject.kind === 'release') {
      const m = subject.model;
      return [
        ...checkImage(m.mgmtServer?.image, m.mgmtServer?.enabled.value, suffix),
        ...checkImage(m.agent?.image, m.agent?.enabled.value, suffix),
      ];
    }
    if (subject.kind !== 'deployment' || !COMPONENTS.includes(subject.name)) return [];
    return containerImages(subject)
      .filter((c) => c.image.includes(subject.name) && !imageTag(c.image).endsWith(suffix))
      .map((c) =>
        violation(`image ${c.image} is not a FIPS build`, c.path, `use the ${suffix} tag of ${subject.name}`),
      );
  },
};
