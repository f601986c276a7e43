"""Support questions by intent: what the simulator's visitors ask the AI agent, and the labelled set the
knowledge-gap grouping is measured on (`make bench-gaps`).

Each intent has hand-written phrasings (questions, short keyword forms, and
longer ones with context) in the vocabulary of the simulator's scenarios
(billing, orders and shipping, accounts, the product and its API). `variants`
adds what real visitors type: typos, lower case, greetings, missing question
marks, extra context. Seeded: the same seed gives the same questions.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

INTENTS: dict[str, tuple[str, ...]] = {
    "reset_password": (
        "How do I reset my password?", "I forgot my password", "password reset link not arriving",
        "Can't log in, need a new password", "where do I change my password", "reset pw",
        "The reset password email never came, what now?", "how can i recover my account password"),
    "change_billing_date": (
        "Can I change my billing date?", "move my payment date to the 15th", "change the day I get charged",
        "billing cycle date change", "is it possible to switch my renewal date",
        "I get paid at the end of the month, can the invoice date move?", "change billing day"),
    "order_status": (
        "Where is my order?", "my package hasn't arrived", "track my order", "order still not delivered",
        "When will my order arrive?", "it's been a week and no parcel", "order status please",
        "has my order shipped yet"),
    "ship_abroad": (
        "Do you ship to Norway?", "international shipping available?", "can you deliver to Canada",
        "which countries do you ship to", "shipping outside the EU", "do you send orders abroad",
        "is delivery to the UK possible after brexit"),
    "export_invoices": (
        "How do I export my invoices?", "download all invoices as pdf", "where can I get my receipts",
        "export billing history to csv", "I need copies of last year's invoices for my accountant",
        "invoice download", "get invoice pdf"),
    "card_declined": (
        "Why was my card declined?", "payment failed", "my credit card keeps getting rejected",
        "transaction declined at checkout", "card not accepted", "payment error when paying with visa",
        "why does my payment not go through"),
    "add_user": (
        "Can I add a second user?", "invite a colleague to my account", "add team member",
        "how many users can I have", "give my coworker access", "add another seat to our plan",
        "how do I invite people to the workspace"),
    "api_rate_limit": (
        "Is there an API rate limit?", "getting 429 too many requests", "api throttling limits",
        "how many requests per minute does the api allow", "rate limit exceeded error",
        "can you raise our api quota", "api limits"),
    "cancel_plan": (
        "How do I cancel my plan?", "cancel my subscription", "I want to stop my membership",
        "end subscription", "how to unsubscribe from the paid plan", "terminate my contract",
        "close my subscription before it renews"),
    "download_app": (
        "Where can I download the app?", "is there a mobile app", "iphone app link", "android app download",
        "do you have an app for ipad", "get the desktop app", "app store link"),
    "refund": (
        "Can I get a refund?", "I want my money back", "refund my last payment", "how long do refunds take",
        "return and refund policy", "charged twice, please refund", "refund request"),
    "return_item": (
        "How do I return an item?", "send back a product", "return label please",
        "the shoes don't fit, can I return them",
        "return a damaged item", "start a return", "exchange an item for another size"),
    "change_address": (
        "Can I change my delivery address?", "update shipping address", "wrong address on my order",
        "I moved, how do I update my address", "change address after ordering", "edit address"),
    "two_factor": (
        "How do I turn on two-factor authentication?", "enable 2fa", "lost my phone with the authenticator app",
        "two step verification setup", "disable 2fa", "my 2fa code doesn't work", "backup codes for login"),
    "delete_account": (
        "How do I delete my account?", "remove my account and data", "close my account permanently",
        "gdpr delete my personal data", "erase my profile", "delete account"),
    "upgrade_plan": (
        "How do I upgrade my plan?", "move to the pro plan", "upgrade subscription", "switch to annual billing",
        "what do I get with the business tier", "upgrade to premium"),
    "pricing": (
        "How much does it cost?", "pricing for teams", "what are your prices", "is there a free plan",
        "price per user per month", "discount for nonprofits", "do you offer student pricing"),
    "vat_invoice": (
        "Can you add my VAT number to the invoice?", "invoice without vat", "reverse charge vat for eu company",
        "put my company name on invoices", "tax id on invoice", "vat number missing on receipt"),
    "integrations_slack": (
        "Do you integrate with Slack?", "connect slack", "slack notifications not working",
        "how to set up the slack integration", "send alerts to a slack channel", "slack app"),
    "data_export": (
        "How do I export my data?", "download all my data", "export contacts to csv", "backup my account data",
        "get a copy of everything I stored", "bulk export"),
    "login_problem": (
        "I can't log in", "login not working", "stuck on the login page", "error when signing in",
        "it says my email is not registered but it is", "sign in keeps failing", "cannot access my account"),
    "change_email": (
        "How do I change my email address?", "update login email", "use a different email for my account",
        "change account email", "my old email no longer works, how do I switch"),
    "opening_hours": (
        "What are your opening hours?", "when is support available", "are you open on weekends",
        "support hours", "what time does customer service close", "can I call you on sunday"),
    "talk_to_human": (
        "Can I talk to a human?", "connect me to an agent", "real person please", "speak to support staff",
        "I want to talk to someone", "live agent", "transfer me to a human being"),
    "discount_code": (
        "My discount code doesn't work", "promo code invalid", "where do I enter a coupon",
        "coupon not applied at checkout", "voucher code expired?", "apply discount code"),
    "delivery_time": (
        "How long does delivery take?", "shipping times", "when will it be delivered if I order today",
        "express delivery options", "next day delivery available?", "how many days for shipping"),
    "gift_card": (
        "How do I use a gift card?", "redeem gift voucher", "check gift card balance", "buy a gift card",
        "gift card not working at checkout", "can I combine two gift cards"),
    "product_availability": (
        "When will this be back in stock?", "item out of stock", "notify me when available",
        "is the blue version available", "restock date", "sold out, will you get more"),
    "invoice_wrong_amount": (
        "My invoice amount is wrong", "I was overcharged", "why is my bill higher this month",
        "unexpected charge on my invoice", "charged for users I removed", "invoice total incorrect"),
    "webhooks": (
        "How do I set up webhooks?", "webhook not firing", "webhook signature verification",
        "retry failed webhooks", "which events can send a webhook", "configure webhook url"),
    "sso": (
        "Do you support SSO?", "single sign-on with okta", "saml setup", "login with azure ad",
        "configure google workspace sso", "sso for our company"),
    "language": (
        "Can I change the language?", "switch the app to german", "is there a french version",
        "interface language settings", "change language to spanish", "translate the dashboard"),
    "dark_mode": (
        "Is there a dark mode?", "enable dark theme", "night mode please", "switch to dark mode on mobile",
        "the screen is too bright, any dark theme"),
    "privacy_policy": (
        "Where is your privacy policy?", "how do you use my data", "do you sell my data",
        "data processing agreement", "where is customer data stored", "are you gdpr compliant"),
}
GREETINGS = ("hi", "hello", "hey there", "good morning", "hi team", "hello,", "quick question:")
ENDINGS = ("thanks", "thank you!", "please help", "asap", "?", "??", "thx")
CONTEXT = ("I've been trying for an hour and", "sorry if this was asked before but", "my boss asked me:",
           "tried the help center already,", "urgent:", "for our company account,")


def typo(text: str, rng: random.Random) -> str:
    """One slip of the keyboard in a word of four or more letters: a swap, a dropped or a doubled letter."""
    words = text.split()
    long = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not long:
        return text
    i = rng.choice(long)
    w, j = words[i], rng.randrange(1, len(words[i]) - 1)
    kind = rng.randrange(3)
    words[i] = (w[:j] + w[j + 1] + w[j] + w[j + 2:] if kind == 0 else w[:j] + w[j + 1:] if kind == 1
                else w[:j] + w[j] + w[j:])
    return " ".join(words)


def variant(text: str, rng: random.Random) -> str:
    """A phrasing as a visitor types it: sometimes lower case, greeted, with context, a typo, no question mark."""
    if rng.random() < 0.5:
        text = text.lower()
    if rng.random() < 0.3:
        text = text.rstrip("?")
    if rng.random() < 0.25:
        text = f"{rng.choice(CONTEXT)} {text[0].lower()}{text[1:]}"
    if rng.random() < 0.3:
        text = f"{rng.choice(GREETINGS)} {text}"
    if rng.random() < 0.2:
        text = f"{text} {rng.choice(ENDINGS)}"
    if rng.random() < 0.35:
        text = typo(text, rng)
    return text


def labelled(seed: int = 7, per_intent: int = 32) -> list[tuple[str, str]]:
    """(intent, question) pairs: every hand-written phrasing once, then variants up to `per_intent` each."""
    rng = random.Random(seed)
    out = []
    for intent, phrasings in INTENTS.items():
        out += [(intent, p) for p in phrasings]
        out += [(intent, variant(rng.choice(phrasings), rng)) for _ in range(per_intent - len(phrasings))]
    rng.shuffle(out)
    return out


def questions(rng: random.Random) -> Iterator[str]:
    """Questions a visitor might ask, forever (the simulator's agent traffic)."""
    intents = list(INTENTS)
    while True:
        yield variant(rng.choice(INTENTS[rng.choice(intents)]), rng)
