# The resident services beyond the first certificate: keypad, periods, origin forms,
# progress, submissions, phone hand-off, rating reasons.

keypad-empty = 请用下方按键输入
keypad-clear = 清空
keypad-application-number-title = 请输入申请编号
keypad-application-number-hint = 编号在受理回执上：两个字母加 13 位数字
keypad-application-number-invalid = 编号不完整：两个字母开头，共 15 位
keypad-exporter-code-title = 请输入出口商代码
keypad-exporter-code-hint = 海关备案的 10 位企业代码，或 18 位统一社会信用代码
keypad-exporter-code-invalid = 代码应为 10 位或 18 位
keypad-house-number-title = 请输入门牌号
keypad-house-number-hint = 只填数字，例如 90
keypad-house-number-invalid = 请输入 1 到 4 位数字，不以 0 开头
keypad-room-number-title = 请输入房间号
keypad-room-number-hint = 只填数字，例如 501
keypad-room-number-invalid = 请输入 1 到 4 位数字，不以 0 开头
keypad-phone-title = 请输入手机号码
keypad-phone-hint = 11 位手机号码，用于办理进度通知
keypad-phone-invalid = 请输入以 1 开头的 11 位手机号码
keypad-count = 已输入 { $count } 位

choose-period-title = 请选择证明的时间范围
choose-period-hint = 证明将列出该期间每月的缴费记录
period-last-12-months = 最近 12 个月
    .hint = 最常用
period-last-24-months = 最近 24 个月
    .hint = 贷款、落户等常需两年记录
period-this-year = 今年以来
    .hint = 从今年 1 月到现在
period-last-year = 去年全年
    .hint = 去年 1 月到 12 月

progress-choice-title = 怎样查询办件进度？
progress-choice-hint = 请选择一种方式
progress-choice-by-number = 输入申请编号
    .hint = 查询任意一件申请
progress-choice-by-card = 刷社会保障卡
    .hint = 查看本人名下的所有申请
progress-choice-by-identity = 刷社保卡或扫手机身份码
    .hint = 查看本人名下的所有申请
progress-list-title = 请选择要查看的申请
progress-list-hint = 以下是您名下的申请

submission-form-title = 户籍地址变更申报
submission-form-hint = 请点击每一项填写，全部填好后点“下一步”
submission-confirm-title = 请核对申报内容
submission-confirm-hint = 确认无误后点击“提交”
submission-district-title = 请选择新地址所在街道
submission-district-hint = 如不在列表中，请在工作时间前往窗口办理
form-district = 街道
form-house = 门牌号
form-room = 房间号
form-phone = 手机号码
form-new-address = 新地址
form-tap-to-fill = 点击填写
street-xihu-wensan = 西湖区 文三路
street-xihu-tianmushan = 西湖区 天目山路
street-gongshu-hushu-south = 拱墅区 湖墅南路
street-shangcheng-jiefang = 上城区 解放路
street-binjiang-jiangnan = 滨江区 江南大道
street-yuhang-wenyi-west = 余杭区 文一西路
form-change = 修改
submission-privacy = 提交后，您的信息仅用于本次申报，本机不保留。
submission-next = 下一步
submission-submit = 提交
submitting-title = 正在提交
submitting-hint = 申报已保存在本机，正在发送，通常几秒钟

receipt-title = 户籍地址变更申报回执
receipt-title-refused = 户籍地址变更申报：未受理
receipt-service = 事项
receipt-service-address-change = 户籍地址变更申报
receipt-received-at = 提交时间
receipt-status = 状态
receipt-status-accepted = 已受理（政务服务平台已收到）
receipt-status-queued = 已保存在本机，尚未送达；网络恢复后自动发送
receipt-status-refused = 未受理
receipt-reason = 原因
receipt-reference-accepted = 受理回执号
receipt-reference-queued = 本机登记号
receipt-note-accepted = 凭受理回执号可在任一自助终端“办件查询”或服务窗口查询办理进度。
receipt-note-queued = 受理回执号在申报送达后生成，通常在网络恢复后几分钟内。届时用社会保障卡在任一自助终端“办件查询 → 用社保卡查询”即可找到本申报；也可凭本机登记号到服务窗口查询。
receipt-note-refused = 本次申报没有提交成功，也不会再自动提交。
receipt-banner-accepted = 申报已受理，请打印回执留存
receipt-banner-queued = 申报已保存在本机，网络恢复后自动发送，无需再次提交
receipt-banner-refused = 申报未被受理

preview-title-certificate = 请核对证明内容
preview-hint-certificate = 确认无误后点击“打印”
preview-code-certificate = 验证码：{ $code }
preview-title-origin-form = 请核对原产地证书
preview-hint-origin-form = 将使用 A4 宽幅纸打印
preview-code-origin-form = 证书编号：{ $code }
preview-title-progress = 办件进度
preview-hint-progress = 可打印留存，也可直接完成
preview-code-progress = 申请编号：{ $code }
preview-title-receipt = 申报回执
preview-hint-receipt = 请打印回执留存
preview-code-receipt = 参考号：{ $code }
preview-phone = 发送到手机
flow-finish = 完成

fetching-origin-form-title = 正在查询原产地证书
fetching-progress-title = 正在查询办件进度
fetching-hint = 正在向政务服务平台查询，通常不超过半分钟

phone-link-title = 用手机扫码查看证明
phone-link-hint = 打开手机相机或微信“扫一扫”
phone-link-expiry = 链接 10 分钟内有效，只能查看这一份证明。
phone-link-close = 完成

origin-unsupported-title = 本机无法打印原产地证书
origin-unsupported-action = 原产地证书需要 A4 宽幅打印机。请到配有 A4 打印机的自助终端或窗口打印，证书已审核通过，无需重新申请。
origin-unsupported-number = 申请编号：{ $number }

rating-reasons-title = 哪里可以做得更好？
rating-reasons-hint = 可多选，也可直接发送
rating-send = 发送评价
reason-too-slow = 等待时间太长
reason-hard-to-use = 操作不方便
reason-printer-problem = 打印有问题
reason-card-problem = 读卡有问题
reason-information-wrong = 信息不正确

flow-error-no-applications = 您名下没有在办的申请
    .action = 如有疑问，请在工作时间前往窗口咨询。
outbox-error-failed = 本机暂时无法保存您的申报
    .action = 您的申报没有提交。请稍后再试，或在工作时间前往窗口办理。
services-unavailable-offline = 网络中断，暂停办理
