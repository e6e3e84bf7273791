// Field guidance: the approach for each delinquency reason, hints for
// situations met on site, and the conduct rules a collector confirms.
// The server's /api/v1/guidance is cached in IndexedDB by sync.js; the
// built-in copy below lets the visit form work before the first fetch.

import { getValue } from './db.js';
import { language } from './i18n.js';

export const REASONS = ['forgot', 'product_dispute', 'cash_flow', 'hardship', 'unwilling', 'unknown'];

const BUILT_IN = {
  version: 'built-in',
  reasons: {
    forgot: {
      en: { title: 'Overlooked the due date', approach: 'Keep it short and friendly. Confirm the amount and the date it was due, ask for payment today, and agree how the next instalment will be remembered.' },
      'zh-TW': { title: '疏忽忘記還款日', approach: '簡短、友善即可。先確認金額與原本的到期日，請對方今天付款，再一起約定下一期如何提醒。' },
    },
    product_dispute: {
      en: { title: 'Unhappy with the product or service', approach: 'Listen and write the complaint down exactly, then pass it to the office. Keep it apart from the debt: ask which part of the amount is not in dispute and whether that part can be paid now.' },
      'zh-TW': { title: '對產品或服務不滿', approach: '先聆聽並準確記下抱怨內容，交回公司處理。把爭議與欠款分開：詢問哪一部分金額沒有爭議，能否先付這一部分。' },
    },
    cash_flow: {
      en: { title: 'Short of cash for now', approach: 'Ask when money is next expected to come in and from whom. Aim for a smaller payment today plus a dated promise for the rest. Do not accept forecasts of future orders in place of a date and an amount.' },
      'zh-TW': { title: '短期資金周轉不靈', approach: '問清楚下一筆收入預計何時、從哪裡進來。目標是今天先收一部分，其餘約定明確日期。不要以未來訂單或營收預估代替具體日期與金額。' },
    },
    hardship: {
      en: { title: 'Real hardship (illness, disaster, closure)', approach: 'Show respect for the situation and stay factual. Explain that the debt still has to be settled and which options the office may offer; promise nothing you are not authorised to give. Note what you learned for your supervisor.' },
      'zh-TW': { title: '確實遭遇困難（疾病、災害、停業）', approach: '尊重對方處境，就事論事。說明欠款仍需處理，以及公司可能提供的方案；未經授權的條件一概不要答應。把了解到的情況記下來給主管參考。' },
    },
    unwilling: {
      en: { title: 'Able but unwilling to pay', approach: 'State plainly that you are here to collect and stay calm. Ask for the original contact and do not let yourself be passed from person to person. If money is promised "in a minute", offer to go along. Record everything; repeated refusals go to your supervisor for escalation.' },
      'zh-TW': { title: '有能力但不願還款', approach: '清楚表明來意是收款，保持冷靜。指名找原始聯絡人，不要被轉介來轉介去。對方說「馬上去拿錢」時，主動表示可以陪同。詳實記錄；多次拒絕由主管決定是否升級處理。' },
    },
    unknown: {
      en: { title: 'Reason not known yet', approach: 'Before talking about terms, find out why the payment is late. Ask open questions and record the answer as the delinquency reason.' },
      'zh-TW': { title: '原因尚不清楚', approach: '談條件之前，先弄清楚遲延的原因。多問開放式問題，並把答案記錄為逾期原因。' },
    },
  },
  situations: {
    other_guests_present: {
      en: { title: 'Other visitors are there', approach: 'Introduce yourself discreetly and wait. Do not leave because the customer is busy, and do not raise the debt in front of their guests.' },
      'zh-TW': { title: '現場有其他訪客', approach: '低調表明身分後在旁等候。不要因為客戶忙就離開，也不要在訪客面前談論欠款。' },
    },
    redirected: {
      en: { title: 'Sent on to someone else', approach: 'Politely ask for the person who arranged the loan. Write down who sent you where; being redirected twice in a row is flagged for your supervisor.' },
      'zh-TW': { title: '被轉介給其他人', approach: '禮貌地指名找當初辦理借款的人。記下誰把你轉介給誰；連續兩次被轉介會通知主管。' },
    },
    arrive_early: {
      en: { title: 'Be there first', approach: 'Arrive before the appointment so the customer cannot say they waited and left.' },
      'zh-TW': { title: '提早抵達', approach: '比約定時間早到，避免客戶以「等不到人就走了」為由推託。' },
    },
  },
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
  return pick(data().reasons?.[reason || 'unknown']) || pick(BUILT_IN.reasons[reason || 'unknown']);
}

export function situationGuidance(name) {
  return pick(data().situations?.[name]) || pick(BUILT_IN.situations[name]);
}

export function conductRules() {
  const rules = data().conduct_rules?.length ? data().conduct_rules : BUILT_IN.conduct_rules;
  return rules.map((r) => ({ id: r.id, text: r[language()] || r.en }));
}

export function guidanceVersion() { return data().version || 'built-in'; }
