#!/usr/bin/env python3
"""Writes the real-title training data of the complaint classifier (`benglema train`).

usage: make-training.py TITLES.tsv   (the full titles-dev.tsv of ../shared/real/weibo-hot/)

- train-labelled.jsonl: every title of labels-dev.tsv and labels-train.tsv as a labelled post
  (outage titles: kind complaint, or recovery; others: no service);
- train-chatter.jsonl: up to 3,000 other titles that name a service of models/services.toml
  and carry no outage word at all: real text that names services without a failure.
- heldout-labelled.jsonl: labels-heldout.tsv in the same form, for `train --compare` only.
Titles of labels-heldout.tsv are never written to the training files.
"""
import csv, json, random, re, sys, tomllib

here = "data/real/weibo-hot/"
held = {r["title"] for r in csv.DictReader(open(here + "labels-heldout.tsv"), delimiter="\t")}
def write_labelled(path, rows, prefix):
    with open(path, "w") as out:
        for i, r in enumerate(rows):
            if r["outage"] == "1":
                kind = "recovery" if r["kind"] == "recovery" else "complaint"
                label = {"service": r["service"].split(";")[0], "kind": kind, "symptoms": []}
            else:
                label = {"service": None, "kind": None, "symptoms": []}
            out.write(json.dumps({"id": f"{prefix}{i:05}", "text": r["title"], "label": label}, ensure_ascii=False) + "\n")

labelled = []
for f in ("labels-dev.tsv", "labels-train.tsv"):
    labelled += list(csv.DictReader(open(here + f), delimiter="\t"))
write_labelled(here + "train-labelled.jsonl", labelled, "W")
write_labelled(here + "heldout-labelled.jsonl",
               list(csv.DictReader(open(here + "labels-heldout.tsv"), delimiter="\t")), "H")
services = tomllib.load(open("models/services.toml", "rb"))["service"]
aliases = sorted({a for s in services for a in s["aliases"] if len(a) >= 2 and not a.isascii()}, key=len, reverse=True)
named = re.compile("|".join(map(re.escape, aliases)))
outage = re.compile(r"崩|宕|登不|打不开|闪退|故障|异常|无法|瘫痪|修复|挂|服务器|卡|加载|掉线|罢工|停服|用不了|进不|不能|bug|错误|失败|恢复|致歉|道歉|回应|补偿|排队|繁忙|爆了|炸")
seen = {r["title"] for r in labelled} | held
pool = []
for r in csv.DictReader(open(sys.argv[1]), delimiter="\t"):
    t = r["title"]
    if t in seen or not named.search(t) or outage.search(t.lower()):
        continue
    seen.add(t)
    pool.append(t)
random.seed(11)
pool = random.sample(pool, min(3000, len(pool)))
with open(here + "train-chatter.jsonl", "w") as out:
    for i, t in enumerate(sorted(pool)):
        out.write(json.dumps({"id": f"C{i:05}", "text": t}, ensure_ascii=False) + "\n")
print(len(labelled), "labelled,", len(pool), "chatter")
