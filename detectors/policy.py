"""Names of the policies the rules rest on (依据), written once and shared by the rules' declarations.

A regulation is named with its exact title and number only where both are certain; a family
of rules without one binding text is named in words. Chinese first, for supervisors; the
English names are the usual translations.
"""

from __future__ import annotations

#: The one-card (一卡通) payment rules: a family of central and provincial documents.
ONE_CARD_ZH = "惠民惠农财政补贴资金“一卡通”管理有关规定"
ONE_CARD_EN = "the rules on paying subsidies to farmers and residents through the one-card system"

#: 《社会救助暂行办法》, State Council Decree No. 649 (2014): minimum living support, support of
#: people in extreme poverty, and keeping the lists of recipients up to date.
SOCIAL_ASSISTANCE_ZH = "《社会救助暂行办法》(国务院令第649号)"
SOCIAL_ASSISTANCE_EN = "Interim Measures on Social Assistance (State Council Decree No. 649)"

#: 《医疗保障基金使用监督管理条例》, State Council Decree No. 735 (2021): what institutions and
#: insured persons may not do with the fund (split or phantom stays, repeated or excessive
#: charges, claims in another person's name, reselling drugs ...).
MEDICAL_FUND_REGULATION_ZH = "《医疗保障基金使用监督管理条例》(国务院令第735号)"
MEDICAL_FUND_REGULATION_EN = (
    "Regulations on the Supervision and Administration of the Use of Medical Security Funds "
    "(State Council Decree No. 735)"
)
