#!/usr/bin/env node
// Offline validation of forktrace's Kubernetes manifests.
//
// Every YAML document under the given files or directories (default:
// deploy/kubernetes/) is turned into the kubernetes-models class for its
// apiVersion and kind (core Kubernetes, and monitoring.coreos.com for the
// Prometheus Operator's PodMonitor and PrometheusRule) and validated against
// that API's OpenAPI schema.  A kind with no model fails: a manifest this
// script cannot check is not taken as checked.  kustomization.yaml is
// checked by hand (its resources exist, and every manifest in its directory
// is listed).  Then, for each directory given, the references between the
// objects in it are resolved: namespace, service account, config map,
// volumes, selectors, the PodMonitor's and the NetworkPolicy's pods and
// ports.  (The schemas do not
// reject unknown fields, so a misspelt optional field passes here;
// tests/test_deploy.py checks the fields that matter by name, and the API
// server's strict field validation rejects the rest at apply time.)
//
// Prints one line per object ("ok" or "FAIL") and exits 1 on any failure,
// 2 when there is nothing to validate or a usage error.
//
// Usage: node tests/deploy/validate.mjs [FILE|DIR ...]
import { readdirSync, readFileSync, statSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import * as k8s from "kubernetes-models";
import * as promOperator from "@kubernetes-models/prometheus-operator";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");

// --- models by apiVersion and kind -------------------------------------------

function collectModels(ns, into, seen = new Set()) {
  if (ns === null || (typeof ns !== "object" && typeof ns !== "function") || seen.has(ns)) {
    return into;
  }
  seen.add(ns);
  for (const value of Object.values(ns)) {
    if (typeof value === "function" && typeof value.apiVersion === "string" &&
        typeof value.kind === "string" && typeof value.prototype?.validate === "function") {
      into.set(`${value.apiVersion} ${value.kind}`, value);
    } else if (value && typeof value === "object") {
      collectModels(value, into, seen); // a group's namespace, e.g. k8s.apps.v1
    }
  }
  return into;
}

const models = collectModels(promOperator, collectModels(k8s, new Map()));

// --- input -------------------------------------------------------------------

function yamlFiles(target) {
  const st = statSync(target);
  if (st.isFile()) return [target];
  const out = [];
  for (const entry of readdirSync(target).sort()) {
    const p = path.join(target, entry);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(entry)) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
if (args.some((a) => a.startsWith("-"))) {
  console.error("usage: node validate.mjs [FILE|DIR ...]");
  process.exit(2);
}
const targets = args.length ? args : [path.join(root, "deploy", "kubernetes")];
let files;
const wholeDirs = new Set(); // directories given: their objects must resolve each other
try {
  files = targets.flatMap((t) => {
    const abs = path.resolve(t);
    if (statSync(abs).isDirectory()) wholeDirs.add(abs);
    return yamlFiles(abs);
  });
} catch (err) {
  console.error(`validate: ${err.message}`);
  process.exit(2);
}

let failures = 0;
const objects = []; // { where, dir, obj }

function display(file) {
  const rel = path.relative(process.cwd(), file);
  return rel.startsWith("..") ? file : rel;
}

function report(ok, where, what, why) {
  console.log(`${ok ? "ok  " : "FAIL"} ${where}: ${what}${why ? `: ${why}` : ""}`);
  if (!ok) failures++;
}

function describe(obj) {
  const meta = obj?.metadata ?? {};
  const name = meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name;
  return `${obj?.apiVersion} ${obj?.kind} ${name ?? "(no name)"}`;
}

// --- kustomization.yaml --------------------------------------------------------

function checkKustomization(file, obj) {
  const dir = path.dirname(file);
  const problems = [];
  const resources = obj.resources;
  if (!Array.isArray(resources) || resources.length === 0 ||
      resources.some((r) => typeof r !== "string")) {
    problems.push("resources must be a non-empty list of paths");
  } else {
    for (const r of resources) {
      if (!existsSync(path.join(dir, r))) problems.push(`resource ${r} does not exist`);
    }
    // every manifest beside it must be listed, or kubectl apply -k skips it
    const listed = new Set(resources.map((r) => path.normalize(r)));
    for (const f of readdirSync(dir).sort()) {
      if (/\.ya?ml$/.test(f) && !/^kustomization\.ya?ml$/.test(f) && !listed.has(f)) {
        problems.push(`${f} is not listed in resources`);
      }
    }
  }
  for (const key of Object.keys(obj)) {
    if (!["apiVersion", "kind", "metadata", "resources", "images", "namespace",
          "commonLabels", "labels", "patches", "configMapGenerator"].includes(key)) {
      problems.push(`unexpected key ${key}`);
    }
  }
  report(problems.length === 0, display(file), "Kustomization", problems.join("; "));
}

// --- schema validation -----------------------------------------------------------

for (const file of files) {
  let docs;
  try {
    docs = parseAllDocuments(readFileSync(file, "utf8"));
  } catch (err) {
    report(false, display(file), "(unreadable)", err.message);
    continue;
  }
  if (!Array.isArray(docs)) docs = [docs]; // an empty stream
  docs.forEach((doc, i) => {
    const where = docs.length > 1 ? `${display(file)}#${i + 1}` : display(file);
    if (doc.errors.length) {
      report(false, where, "(YAML)", doc.errors.map((e) => e.message).join("; "));
      return;
    }
    const obj = doc.toJS();
    if (obj === null || obj === undefined) return; // an empty document ("---" at the end)
    if (typeof obj !== "object" || Array.isArray(obj)) {
      report(false, where, "(not an object)", `a YAML ${Array.isArray(obj) ? "list" : typeof obj}`);
      return;
    }
    if (obj.apiVersion === "kustomize.config.k8s.io/v1beta1" && obj.kind === "Kustomization") {
      checkKustomization(file, obj);
      return;
    }
    const Model = models.get(`${obj.apiVersion} ${obj.kind}`);
    if (!Model) {
      report(false, where, describe(obj), "unknown apiVersion/kind: no model to validate it with");
      return;
    }
    if (typeof obj.metadata?.name !== "string" || obj.metadata.name === "") {
      report(false, where, describe(obj), "metadata.name is missing");
      return;
    }
    try {
      new Model(obj).validate();
    } catch (err) {
      report(false, where, describe(obj), err.message);
      return;
    }
    objects.push({ where, dir: path.dirname(file), obj });
    report(true, where, describe(obj));
  });
}

// --- references between the objects ----------------------------------------------

// the objects of one directory given on the command line (with its
// subdirectories: a kustomize base and its parts)
function inDir(dir) {
  return objects.filter((o) => o.dir === dir || o.dir.startsWith(dir + path.sep));
}

function find(group, kind, name, namespace) {
  return group.find(({ obj }) => obj.kind === kind && obj.metadata.name === name &&
    (namespace === undefined || obj.metadata.namespace === namespace));
}

function matches(selector, labels) {
  const want = selector?.matchLabels ?? {};
  return Object.keys(want).length > 0 &&
    Object.entries(want).every(([k, v]) => labels?.[k] === v);
}

const workloads = new Set(["DaemonSet", "Deployment", "StatefulSet", "Job"]);
for (const dir of wholeDirs) {
  const group = inDir(dir);
  for (const { where, obj } of group) {
    const problems = checkReferences(group, obj);
    if (problems.length) report(false, where, `${describe(obj)} (references)`, problems.join("; "));
  }
}

function checkReferences(group, obj) {
  const problems = [];
  const ns = obj.metadata.namespace;
  if (ns && !find(group, "Namespace", ns) && ns !== "default" && ns !== "kube-system") {
    problems.push(`namespace ${ns} is not among the manifests`);
  }
  if (workloads.has(obj.kind)) {
    const tpl = obj.spec?.template ?? obj.spec?.jobTemplate?.spec?.template;
    const spec = tpl?.spec ?? {};
    if (obj.spec?.selector && !matches(obj.spec.selector, tpl?.metadata?.labels)) {
      problems.push("spec.selector does not select the pod template's labels");
    }
    const sa = spec.serviceAccountName;
    if (sa && !find(group, "ServiceAccount", sa, ns)) problems.push(`service account ${sa} not found`);
    for (const v of spec.volumes ?? []) {
      if (v.configMap && !find(group, "ConfigMap", v.configMap.name, ns)) {
        problems.push(`config map ${v.configMap.name} (volume ${v.name}) not found`);
      }
    }
    const volumeNames = new Set((spec.volumes ?? []).map((v) => v.name));
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      for (const m of c.volumeMounts ?? []) {
        if (!volumeNames.has(m.name)) problems.push(`container ${c.name} mounts unknown volume ${m.name}`);
      }
    }
  }
  if (obj.kind === "PodMonitor") {
    const pods = group.filter(({ obj: o }) => workloads.has(o.kind) &&
      matches(obj.spec.selector, o.spec?.template?.metadata?.labels));
    if (pods.length === 0) problems.push("its selector matches no pod template among the manifests");
    for (const ep of obj.spec.podMetricsEndpoints ?? []) {
      const named = pods.some(({ obj: o }) => (o.spec.template.spec.containers ?? [])
        .some((c) => (c.ports ?? []).some((p) => p.name === ep.port)));
      if (ep.port && pods.length && !named) problems.push(`no selected container has a port named ${ep.port}`);
    }
  }
  if (obj.kind === "NetworkPolicy") {
    // a policy that selects no pod protects nothing; a port it names must
    // be one of the selected containers'
    const pods = group.filter(({ obj: o }) => workloads.has(o.kind) &&
      matches(obj.spec.podSelector, o.spec?.template?.metadata?.labels));
    if (pods.length === 0) problems.push("its podSelector matches no pod template among the manifests");
    for (const rule of obj.spec.ingress ?? []) {
      for (const p of rule.ports ?? []) {
        if (typeof p.port !== "string" || !pods.length) continue;
        const named = pods.some(({ obj: o }) => (o.spec.template.spec.containers ?? [])
          .some((c) => (c.ports ?? []).some((cp) => cp.name === p.port)));
        if (!named) problems.push(`no selected container has a port named ${p.port}`);
      }
    }
  }
  return problems;
}

if (objects.length === 0 && failures === 0) {
  console.error(`validate: no Kubernetes objects found in ${targets.join(" ")}`);
  process.exit(2);
}
console.log(`validate: ${objects.length} objects checked, ${failures} failures`);
process.exit(failures ? 1 : 0);
