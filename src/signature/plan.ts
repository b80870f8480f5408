/**
 * Which signatures of an Image are verified, and the judgement of each once they are. Verification is
 * the costliest work a write can ask for and the writer picks how much, so at most
 * MAX_VERIFIED_PER_REVIEW distinct contents are verified per Image; later ones are judged
 * `TooManySignatures` (Trusted=False). The choice depends only on the Image, in order, so /mutate and
 * /validate of one write pick the same signatures. Pure.
 */
import { manifestDigestOf } from '../image/content.js';
import { digestAlgorithm } from '../image/digest.js';
import { arrayOrEmpty, isObject, isStandardBase64 } from '../image/json.js';
import type { JudgementOf } from './derive.js';
import { type ImageIdentity, judgeLoneSignature, judgeSignature, judgeUnverified, type SignatureJudgement, VERIFIED_TYPES } from './judge.js';
import type { SignatureVerdict } from './verdict.js';

/** Distinct signature contents verified per Image in one review. Real Images carry one to three. */
export const MAX_VERIFIED_PER_REVIEW = 16;

/**
 * The distinct contents of `image`'s verifiable signatures, in order, at most MAX_VERIFIED_PER_REVIEW.
 * `verified(content)` says a content was verified before (and so is standard base64): its scan is
 * skipped, since a signature's content is most of its bytes and most writes re-send known signatures.
 */
export function contentsToVerify(image: Record<string, unknown>, verified: (content: string) => boolean = () => false): string[] {
  const contents = new Set<string>();
  for (const signature of arrayOrEmpty(image.signatures)) {
    if (contents.size === MAX_VERIFIED_PER_REVIEW) break;
    const content = verifiableContent(signature, verified);
    if (content !== undefined) contents.add(content);
  }
  return [...contents];
}

function verifiableContent(signature: unknown, verified: (content: string) => boolean = () => false): string | undefined {
  if (!isObject(signature) || typeof signature.type !== 'string' || !VERIFIED_TYPES.includes(signature.type)) return undefined;
  const content = signature.content;
  return typeof content === 'string' && content !== '' && (verified(content) || isStandardBase64(content)) ? content : undefined;
}

/** The contents a lone ImageSignature object asks to verify: its own, when it is verifiable. */
export function loneSignatureContents(signature: Record<string, unknown>): string[] {
  const content = verifiableContent(signature);
  return content === undefined ? [] : [content];
}

/**
 * The judgement of a lone ImageSignature object (`imagesignatures` CREATE), whose Image is named by
 * the part of its name before "@"; undefined when the name does not say (the shape rules report it).
 */
export function judgementOfLoneSignature(signature: Record<string, unknown>, verdicts: ReadonlyMap<string, SignatureVerdict>): SignatureJudgement | undefined {
  const name = isObject(signature.metadata) ? signature.metadata.name : undefined;
  const parts = typeof name === 'string' ? name.split('@') : [];
  if (parts.length !== 2 || parts[0] === '') return undefined;
  if (typeof signature.type !== 'string' || !VERIFIED_TYPES.includes(signature.type)) return judgeUnverified('UnsupportedType', signature.type);
  const content = verifiableContent(signature);
  if (content === undefined) return judgeUnverified('InvalidContent', signature.type);
  const verdict = verdicts.get(content);
  return verdict === undefined ? judgeUnverified('TooManySignatures', signature.type) : judgeLoneSignature(parts[0]!, verdict);
}

/**
 * The judgement of each signature of `image`, from the verdicts on its contents. Each is computed once
 * and kept (/mutate asks for every signature's twice: to derive it and to find replaced claims).
 */
export function judgementsOf(image: Record<string, unknown>, verdicts: ReadonlyMap<string, SignatureVerdict>): JudgementOf {
  const signatures = arrayOrEmpty(image.signatures);
  const identity = imageIdentityOf(image);
  const known = new Map<number, SignatureJudgement | undefined>();
  return (index) => {
    if (known.has(index)) return known.get(index);
    const judgement = judge(index);
    known.set(index, judgement);
    return judgement;
  };

  function judge(index: number): SignatureJudgement | undefined {
    const signature = signatures[index];
    if (!isObject(signature)) return undefined;
    if (typeof signature.type !== 'string' || !VERIFIED_TYPES.includes(signature.type)) return judgeUnverified('UnsupportedType', signature.type);
    // Only verifiable contents have verdicts: one found needs no second scan.
    const content = verifiableContent(signature, (c) => verdicts.has(c));
    if (content === undefined) return judgeUnverified('InvalidContent', signature.type);
    const verdict = verdicts.get(content);
    return verdict === undefined ? judgeUnverified('TooManySignatures', signature.type) : judgeSignature(identity, verdict);
  }
}

/**
 * What a signature of `image` must name: its digest (`metadata.name`) and its repository. A name that
 * is no digest (a CustomResourceDefinition stand-in names Images `sha256.<hex>`: custom resource names
 * must be DNS subdomains) leaves the manifest's own digest, as containers/image checks a manifest.
 */
function imageIdentityOf(image: Record<string, unknown>): ImageIdentity {
  const name = isObject(image.metadata) ? image.metadata.name : undefined;
  const manifestDigest = digestAlgorithm(name) === undefined ? manifestDigestOf(image) : undefined;
  return { name, dockerImageReference: image.dockerImageReference, ...(manifestDigest === undefined ? {} : { manifestDigest }) };
}
