// Field guidance: the approach for each delinquency reason, hints for
// situations met on site, and the conduct rules a collector confirms.
// The server's /api/v1/guidance is cached in IndexedDB by sync.js. Only the
// conduct rules are built in, so the visit form works before the first fetch;
// approaches simply do not show until the guidance has arrived.

import { getValue } from './db.js';
import { language } from './i18n.js';

export const REASONS = ['forgot', 'product_dispute', 'cash_flow', 'hardship', 'unwilling', 'unknown'];

const BUILT_IN = {
  version: 'built-in',
  conduct_rules: [
    { id: 'no_impersonation', en: 'I did not pretend to be the police, a court, a bank or any other authority.', 'zh-TW': '我沒有冒充警察、法院、銀行或任何機關。' },
    { id: 'no_threats', en: 'I did not threaten, exaggerate consequences or try to shame the customer in public or through their family.', 'zh-TW': '我沒有威脅、誇大後果，或在公開場合、透過家人讓客戶難堪。' },
    { id: 'no_disclosure', en: 'I did not reveal the debt or the customer\u2019s details to anyone not entitled to know.', 'zh-TW': '我沒有向無權知悉的人透露欠款或客戶資料。' },
    { id: 'no_unofficial_letters', en: 'I did not hand over any lawyer\u2019s or demand letter the company has not issued.', 'zh-TW': '我沒有交付任何非公司發出的律師函或催告函。' },
    { id: 'no_documents', en: 'I issued no receipt, settlement statement or other document on my own authority.', 'zh-TW': '我沒有自行開立收據、結清證明或其他文件。' },
    { id: 'no_unauthorised_promises', en: 'I made no promise or concession the company has not approved.', 'zh-TW': '我沒有作出公司未核准的承諾或讓步。' },
    { id: 'no_gifts', en: 'I accepted no gift, favour or money for myself.', 'zh-TW': '我沒有為自己收受任何禮物、好處或金錢。' },
    { id: 'no_abuse', en: 'I did not insult, mock or physically harm anyone.', 'zh-TW': '我沒有辱罵、嘲笑或傷害任何人。' },
    { id: 'no_illegal_funding', en: 'I did not suggest raising the money from illegal or unlicensed sources.', 'zh-TW': '我沒有建議對方向非法或無照管道籌錢。' },
    { id: 'true_records', en: 'Everything in this record is true; no payment is reported that I did not receive.', 'zh-TW': '本紀錄內容皆屬實，沒有申報未實際收到的款項。' },
  ],
};

let cache = null;

export async function loadGuidance() {
  const stored = await getValue('device', 'guidance', null);
  cache = stored?.data || BUILT_IN;
  return cache;
}

function data() { return cache || BUILT_IN; }

function pick(entry) {
  if (!entry) return null;
  return entry[language()] || entry.en || null;
}

export function reasonGuidance(reason) {
  return pick(data().reasons?.[reason || 'unknown']);
}

export function situationGuidance(name) {
  return pick(data().situations?.[name]);
}

export function conductRules() {
  const rules = data().conduct_rules?.length ? data().conduct_rules : BUILT_IN.conduct_rules;
  return rules.map((r) => ({ id: r.id, text: r[language()] || r.en }));
}

